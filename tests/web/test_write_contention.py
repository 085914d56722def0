"""Many writers at once against the real development server: none of them sees an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.models import Folder, Job, Tag
from tests.factories import make_job, make_user
from tests.support.servers import ServedApp, flask_run_command, free_port, session_cookie
from tests.support.write_load import Writer, run_writers

WRITERS = 20
SECONDS = 12


def test_twenty_concurrent_writers_on_sqlite_see_no_error(app: Flask, session: Session,
                                                         tmp_path: Path) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the write lock under contention is SQLite's; PostgreSQL locks rows")
    users = [make_user(session) for _ in range(WRITERS // 2)]
    jobs = [make_job(session, user) for user in users]
    session.commit()
    writers = [Writer(session_cookie(app, users[i % len(users)].session_token),
                      root_folder(session, users[i % len(users)]).id, jobs[i % len(users)].id)
               for i in range(WRITERS)]
    port = free_port()

    # As `make run` serves it: the embedded worker in the same process, writing beside the
    # requests. SQLite's own wait is cut to 50 ms so that twelve seconds on a quiet machine meet
    # the contention that a minute on a busy one met with the default 5 s: any writer that waits
    # longer than one such wait must be made to wait, not fail.
    with ServedApp(app, flask_run_command(port), port, tmp_path / "server.log",
                   PPC_ROBOT_START_WORKER="1", PPC_ROBOT_SQLITE_BUSY_TIMEOUT_MS="50") as server:
        load = run_writers(server.url, writers, SECONDS)
        log = server.output()
    print(load.summary())

    assert load.failures() == {}, f"{load.failures()}; all: {dict(load.outcomes)}; {log[-3000:]}"
    assert "database is locked" not in log
    session.rollback()  # a fresh snapshot
    created = {
        "folder": session.scalar(select(func.count()).select_from(Folder)) - len(users),
        "tag": session.scalar(select(func.count()).select_from(Tag)),
        "job": session.scalar(select(func.count()).select_from(Job)) - len(users),
    }
    for kind, count in created.items():
        assert count == load.outcomes[f"{kind} 302"], (kind, count, dict(load.outcomes))
    assert sum(created.values()) > WRITERS  # the load did happen
