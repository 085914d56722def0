"""A newcomer's first minute: `make run` on a fresh instance shows the Sandbox's clients.

The app is started as `make run` starts it (db upgrade, seed-demo, `flask run` with the embedded
worker) in processes of its own, on an empty instance folder with its own SQLite file and a
free port; the browser logs in with the printed demo credentials and waits for the dashboard to
fill from the worker's first statistics refresh.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ppc_robot.lib.demo import DEMO_CLIENTS
from tests.e2e.conftest import browser_login, screenshot

ROOT = Path(__file__).resolve().parents[2]
FIRST_MINUTE_MS = 60_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _flask(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _wait_for_port(port: int, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "flask run exited before it served"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"flask run did not listen on port {port} within {seconds:.0f} s")


@pytest.fixture
def fresh_make_run(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """`make run`'s three steps on a new instance folder; yields the URL, e-mail and password."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DATABASE_URL", "TEST_DATABASE_URL", "PPC_ROBOT_", "FLASK_"))}
    env.update(FLASK_APP="ppc_robot.web:create_app", PPC_ROBOT_INSTANCE_PATH=str(tmp_path / "instance"),
               PYTHONPATH=str(ROOT))
    _flask(env, "db", "upgrade")
    printed = _flask(env, "seed-demo")
    credentials = re.search(r"Log in as (\S+) with password (\S+)", printed)
    assert credentials, printed
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env={**env, "PPC_ROBOT_START_WORKER": "1"}, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}", credentials[1], credentials[2]
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()
        print((tmp_path / "server.log").read_text()[-4000:])


def test_make_run_shows_the_sandbox_clients_with_pacing_and_charts_within_a_minute(
        fresh_make_run, browser):
    # The suite's session browser (only Chromium: its pages and live server are other fixtures);
    # this test brings its own server and database.
    url, email, password = fresh_make_run
    started = time.monotonic()
    context = browser.new_context(base_url=url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}")
            if msg.type == "error" else None)

    browser_login(page, email, password)
    screenshot(page, "make-run-first-dashboard")
    # The worker fills the store in the background: the page shows it once reloaded.
    names = [name for name, *_ in DEMO_CLIENTS]
    while True:
        page.goto("/")
        lines = page.locator(".performance-line")
        if lines.count() >= len(names) and page.locator("canvas[data-chart]").count():
            break
        waited = (time.monotonic() - started) * 1000
        assert waited < FIRST_MINUTE_MS, "the dashboard had no statistics after a minute"
        page.wait_for_timeout(2000)

    for name in names:
        line = lines.filter(has_text=name)
        expect(line).to_have_count(1)
        expect(line.locator("svg.pacing-bar")).to_have_count(1)
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')]"
                           ".every((c) => window.Chart && Chart.getChart(c))")
    for canvas in page.locator("canvas[data-chart]").all():
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
    assert (time.monotonic() - started) * 1000 < FIRST_MINUTE_MS
    screenshot(page, "make-run-dashboard-filled")
    context.close()
    assert problems == [], problems
