"""Many writers at once against the real development server: none of them sees an error."""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.models import Folder, Job, Tag
from tests.conftest import csrf_token_from
from tests.factories import make_job, make_user
from tests.support.servers import ServedApp, flask_run_command, free_port, session_cookie

WRITERS = 20
SECONDS = int(os.environ.get("PPC_ROBOT_CONTENTION_SECONDS", "12"))


def _writer(index: int, base_url: str, cookie: str, root_id: int, job_id: int, seconds: float,
            outcomes: Counter[str], waits: list[float], lock: threading.Lock) -> None:
    """Create folders, tags and job copies in turn, as fast as the server answers."""
    names = itertools.count(1)
    with httpx.Client(base_url=base_url, timeout=120) as client:
        client.cookies.set("session", cookie, domain="127.0.0.1")
        page = client.get(f"/folders/{root_id}/new")
        token = csrf_token_from(page.text)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            n = next(names)
            kind = ("folder", "tag", "job")[n % 3]
            began = time.monotonic()
            try:
                if kind == "folder":
                    response = client.post(f"/folders/{root_id}/new",
                                           data={"csrf_token": token, "name": f"Folder {index}-{n}"})
                elif kind == "tag":
                    response = client.post("/tags/new", data={"csrf_token": token,
                                                              "name": f"tag {index}-{n}", "colour": "#336699"})
                else:
                    response = client.post(f"/jobs/{job_id}/duplicate", data={"csrf_token": token})
                outcome = f"{kind} {response.status_code}"
            except httpx.HTTPError as exc:
                outcome = f"{kind} {type(exc).__name__}"
            with lock:
                outcomes[outcome] += 1
                waits.append(time.monotonic() - began)


def test_twenty_concurrent_writers_on_sqlite_see_no_error(app: Flask, session: Session,
                                                         tmp_path: Path) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the write lock under contention is SQLite's; PostgreSQL locks rows")
    users = [make_user(session) for _ in range(WRITERS // 2)]
    jobs = [make_job(session, user) for user in users]
    session.commit()
    writers = [(users[i % len(users)], jobs[i % len(users)]) for i in range(WRITERS)]
    outcomes: Counter[str] = Counter()
    waits: list[float] = []
    lock = threading.Lock()

    with _server(app, tmp_path) as server:
        threads = [
            threading.Thread(target=_writer, args=(index, server.url, session_cookie(app, user.session_token),
                                                   root_folder(session, user).id, job.id, SECONDS,
                                                   outcomes, waits, lock))
            for index, (user, job) in enumerate(writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        log = server.output()
    waits.sort()
    print(f"{len(waits)} writes, p50 {waits[len(waits) // 2]:.3f} s, "
          f"p99 {waits[int(len(waits) * 0.99)]:.3f} s, max {waits[-1]:.3f} s")

    failures = {outcome: n for outcome, n in outcomes.items() if not re.search(r" (200|302)$", outcome)}
    assert failures == {}, f"{failures}; all: {dict(outcomes)}; log tail: {log[-3000:]}"
    assert "database is locked" not in log
    session.rollback()  # a fresh snapshot
    created = {
        "folder": session.scalar(select(func.count()).select_from(Folder)) - len(users),
        "tag": session.scalar(select(func.count()).select_from(Tag)),
        "job": session.scalar(select(func.count()).select_from(Job)) - len(users),
    }
    for kind, count in created.items():
        assert count == outcomes[f"{kind} 302"], (kind, count, dict(outcomes))
    assert sum(created.values()) > WRITERS  # the load did happen


def _server(app: Flask, tmp_path: Path) -> ServedApp:
    port = free_port()
    # As `make run` serves it: the embedded worker in the same process, writing beside the
    # requests. SQLite's own wait is cut to 50 ms so that twelve seconds on a quiet machine meet
    # the contention that a minute on a busy one met with the default 5 s: any writer that waits
    # longer than one such wait must be made to wait, not fail.
    return ServedApp(app, flask_run_command(port), port, tmp_path / "server.log",
                     PPC_ROBOT_START_WORKER="1", PPC_ROBOT_SQLITE_BUSY_TIMEOUT_MS="50")
