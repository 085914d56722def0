"""Writers hammering a served app: each creates folders, tags and job copies in turn, as fast as
the server answers, for a fixed time (tests/web/test_write_contention.py, bench/contention.py)."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Writer:
    session_cookie: str
    root_folder_id: int
    job_id: int


@dataclass
class Load:
    outcomes: Counter[str] = field(default_factory=Counter)
    waits: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, outcome: str, wait: float) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
            self.waits.append(wait)

    def failures(self) -> dict[str, int]:
        return {o: n for o, n in self.outcomes.items() if not o.endswith((" 200", " 302"))}

    def summary(self) -> str:
        waits = sorted(self.waits) or [0.0]
        return (f"{len(self.waits)} writes, p50 {waits[len(waits) // 2]:.3f} s, "
                f"p99 {waits[int(len(waits) * 0.99)]:.3f} s, max {waits[-1]:.3f} s")


def _write(index: int, base_url: str, writer: Writer, seconds: float, load: Load) -> None:
    names = itertools.count(1)
    with httpx.Client(base_url=base_url, timeout=120) as client:
        client.cookies.set("session", writer.session_cookie, domain="127.0.0.1")
        token = CSRF.search(client.get(f"/folders/{writer.root_folder_id}/new").text).group(1)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            n = next(names)
            kind = ("folder", "tag", "job")[n % 3]
            began = time.monotonic()
            try:
                if kind == "folder":
                    response = client.post(f"/folders/{writer.root_folder_id}/new",
                                           data={"csrf_token": token, "name": f"Folder {index}-{n}"})
                elif kind == "tag":
                    response = client.post("/tags/new", data={
                        "csrf_token": token, "name": f"tag {index}-{n}", "colour": "#336699"})
                else:
                    response = client.post(f"/jobs/{writer.job_id}/duplicate",
                                           data={"csrf_token": token})
                outcome = f"{kind} {response.status_code}"
            except httpx.HTTPError as exc:
                outcome = f"{kind} {type(exc).__name__}"
            load.record(outcome, time.monotonic() - began)


def run_writers(base_url: str, writers: list[Writer], seconds: float) -> Load:
    """All `writers` at once, each in its own thread and connection, for `seconds`."""
    load = Load()
    threads = [threading.Thread(target=_write, args=(i, base_url, w, seconds, load))
               for i, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return load
