"""Benchmark (not a test): the URL checker's engine against a loopback site answering each
request after 100 ms.

1. 1,000 then 10,000 distinct URLs at concurrency 32 with the per-host limit lifted: wall time
   against the ideal (n × 0.1 s / 32; target ≤ 1.3 ×) and the growth of peak RSS from the
   1,000 run to the 10,000 run (target < 50 MB);
2. 300 URLs with the per-host limit at 2: the most requests the server answered at once
   (target ≤ 2), and the wall time against that limit's ideal (n × 0.1 s / 2).

The site runs in a process of its own (tests/stubs/sites.py), so neither its CPU nor its
memory counts against the checker's. Figures printed and written to bench/output/urlcheck.json.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from ppc_robot.lib.urlcheck import CheckSettings, UrlStatus, check_urls
from tests.stubs.sites import Page, SiteServer

DELAY = 0.1
CONCURRENCY = 32
TARGET_RATIO = 1.3
TARGET_RSS_MB = 50


def _serve(ports: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    server: SiteServer

    def route(method: str, path: str) -> Page | None:
        if path == "/__stats":
            stats = {"most_in_flight": server.most_in_flight,
                     "requests": sum(server.counts.values())}
            server.most_in_flight = 0
            return Page(body=json.dumps(stats).encode())
        return Page(body=b"<html><body>Product page</body></html>", delay=DELAY)

    server = SiteServer(route=route).start()
    ports.put(server.port)
    stop.wait()
    server.stop()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _run(base: str, count: int, settings: CheckSettings, prefix: str) -> dict[str, float]:
    urls = [f"{base}/{prefix}/{n}?ref=bench" for n in range(count)]
    statuses: Counter[str] = Counter()
    started = time.perf_counter()
    check_urls(urls, settings, lambda result: statuses.update([result.status.value]))
    wall = time.perf_counter() - started
    ideal = count * DELAY / min(settings.concurrency, settings.per_host or settings.concurrency)
    stats = httpx.get(f"{base}/__stats", timeout=10).json()
    assert statuses[UrlStatus.OK.value] == count, statuses
    return {"urls": count, "wall_s": round(wall, 2), "ideal_s": round(ideal, 2),
            "ratio": round(wall / ideal, 3), "peak_rss_mb": round(_peak_rss_mb(), 1),
            "server_most_in_flight": stats["most_in_flight"]}


def main() -> int:
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    stop = multiprocessing.Event()
    site = multiprocessing.Process(target=_serve, args=(ports, stop), daemon=True)
    site.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    lifted = CheckSettings(concurrency=CONCURRENCY, per_host=None, min_interval=0.0,
                           allowed_hosts=("127.0.0.1",))
    polite = CheckSettings(concurrency=CONCURRENCY, per_host=2, min_interval=0.0,
                           allowed_hosts=("127.0.0.1",))
    try:
        _run(base, 200, lifted, "warm")  # imports and first connections out of the figures
        small = _run(base, 1_000, lifted, "small")
        large = _run(base, 10_000, lifted, "large")
        per_host = _run(base, 300, polite, "polite")
    finally:
        stop.set()
        site.join(10)
    growth = large["peak_rss_mb"] - small["peak_rss_mb"]
    figures = {"1000_urls": small, "10000_urls": large, "per_host_2": per_host,
               "rss_growth_mb": round(growth, 1)}
    checks = {
        f"10,000 URLs wall ≤ {TARGET_RATIO} × ideal": large["ratio"] <= TARGET_RATIO,
        f"peak RSS growth 1,000 → 10,000 < {TARGET_RSS_MB} MB": growth < TARGET_RSS_MB,
        "per-host limit 2 holds at the server": per_host["server_most_in_flight"] <= 2,
    }
    print(json.dumps(figures, indent=2))
    for label, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    output = Path("bench/output")
    output.mkdir(parents=True, exist_ok=True)
    (output / "urlcheck.json").write_text(json.dumps({**figures, "checks": checks}, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
