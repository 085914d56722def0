"""Folder browser benchmark: a user with 10,000 folders and 100,000 jobs.

Measures, in one run and under one server, the folder page and the search page against a
bare Flask endpoint doing one indexed query, and counts the SQL statements of each page for a
user with 10 jobs and for the user with 100,000 jobs.

    make bench-folders                      # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench make bench-folders
    .venv/bin/python -m bench.folders --folders 1000 --jobs 10000 --seconds 3   # quicker

The server is Werkzeug's, single-threaded, in a child process; the client sends requests one
after another for a fixed time per page, so requests/s is the inverse of the mean latency.
Data is written with Core executemany inserts (seconds, not minutes).
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import multiprocessing
import os
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from sqlalchemy import Engine, event, func, insert, select, text
from werkzeug.serving import make_server

from ppc_robot.lib.credentials import generate_key
from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.models import (
    Base,
    ClientAccount,
    Folder,
    FolderPath,
    Job,
    JobDefinition,
    Platform,
    ScheduleKind,
    ServiceAccount,
    Tag,
    jobs_client_accounts,
    jobs_tags,
)
from ppc_robot.lib.users import create_user
from ppc_robot.web import create_app
from ppc_robot.web.extensions import db

BATCH = 10_000
SEARCH_TERM = "weekly"
KINDS = ("daily performance", "weekly overview", "monthly budget", "search terms")


def build_app(database_url: str, instance: Path) -> Flask:
    app = create_app({
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.urandom(24).hex(),
        "PPC_ROBOT_CREDENTIALS_KEY": generate_key(),
        "INSTANCE_PATH": str(instance),
    })

    @app.route("/bench/bare/<int:job_id>")
    def bare(job_id: int) -> str:
        name = db.session.scalar(select(Job.name).where(Job.id == job_id))
        return name or ""

    @app.route("/bench/layout")
    def layout() -> str:
        # The shared page layout alone (navigation, CSRF token, the logged-in user): the floor
        # under every real page.
        return render_template("base.html")

    return app


def _insert(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(table), rows[start:start + BATCH])


def _next_id(connection: Any, model: Any) -> int:
    return (connection.scalar(select(func.max(model.id))) or 0) + 1


def _fix_sequences(connection: Any) -> None:
    if connection.dialect.name != "postgresql":
        return
    for table in ("robot_folders", "robot_jobs", "robot_job_definitions", "robot_tags",
                  "robot_client_accounts"):
        connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))


def _settle(engine: Engine) -> None:
    """PostgreSQL as autovacuum leaves it after a bulk load: statistics and the visibility map
    (without it no count is answered from an index alone)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def make_user_with(app: Flask, email: str, folders: int, jobs: int) -> dict[str, Any]:
    """A user whose tree has `folders` folders under the root and `jobs` jobs, fast."""
    with app.app_context():
        session = db.session()
        user = create_user(session, email, "benchmark password 123", time_zone="Europe/Prague")
        root = root_folder(session, user)
        login = ServiceAccount(user_id=user.id, platform=Platform.SANDBOX, external_id=email,
                               name="Sandbox")
        session.add(login)
        session.commit()
        user_id, root_id, login_id, token = user.id, root.id, login.id, user.session_token
        rng = random.Random(7)
        now = datetime.now(UTC)
        with db.engine.begin() as connection:
            folder_rows, path_rows = _tree(connection, user_id, root_id, folders, now)
            _insert(connection, Folder.__table__, folder_rows)
            _insert(connection, FolderPath.__table__, path_rows)
            leaf_ids = [row["id"] for row in folder_rows] or [root_id]
            big_folder = leaf_ids[0]
            first_tag = _next_id(connection, Tag)
            tags = [{"id": first_tag + n, "user_id": user_id, "name": f"tag {n}", "colour": "#0d6efd",
                     "created_at": now} for n in range(min(200, max(1, jobs // 10)))]
            _insert(connection, Tag.__table__, tags)
            first_account = _next_id(connection, ClientAccount)
            accounts = [{"id": first_account + n, "user_id": user_id, "service_account_id": login_id,
                         "external_id": f"{n}", "name": f"Client {n}", "currency": "CZK",
                         "time_zone": "Europe/Prague", "status": "active", "created_at": now,
                         "updated_at": now} for n in range(100)]
            _insert(connection, ClientAccount.__table__, accounts)
            first_definition = _next_id(connection, JobDefinition)
            definitions = [{"id": first_definition + n, "user_id": user_id, "name": f"Definition {n}",
                            "task_type": "performance", "task_type_version": 2, "output_type": "xlsx",
                            "parameters": {"date_range": "yesterday"}, "created_at": now,
                            "updated_at": now} for n in range(max(1, jobs // 100))]
            _insert(connection, JobDefinition.__table__, definitions)
            first_job = _next_id(connection, Job)
            job_rows, tag_rows, account_rows = [], [], []
            for n in range(jobs):
                job_id = first_job + n
                # A tenth of the jobs fill one big folder (pagination); the rest spread out.
                folder_id = big_folder if n < jobs // 10 else rng.choice(leaf_ids)
                job_rows.append({
                    "id": job_id, "user_id": user_id, "folder_id": folder_id,
                    "definition_id": first_definition + n % len(definitions),
                    "name": f"Client {n % 1000} {KINDS[n % len(KINDS)]} {n}",
                    "level": "client_account", "all_client_accounts": False,
                    "schedule_kind": ScheduleKind.DAILY.value, "schedule": {"time": "07:00"},
                    "time_zone": "Europe/Prague", "is_enabled": True, "next_run_at": now,
                    "output_path": "", "output_state": {}, "created_at": now, "updated_at": now,
                })
                tag_rows.append({"job_id": job_id, "tag_id": tags[n % len(tags)]["id"]})
                account_rows.append({"job_id": job_id,
                                     "client_account_id": accounts[n % len(accounts)]["id"]})
            _insert(connection, Job.__table__, job_rows)
            _insert(connection, jobs_tags, tag_rows)
            _insert(connection, jobs_client_accounts, account_rows)
            _fix_sequences(connection)
        # A typical folder: one with sub-folders and a handful of jobs of its own.
        db.session.rollback()  # end the read snapshot taken before the inserts
        typical = db.session.scalar(
            select(Job.folder_id).where(Job.user_id == user_id, Job.folder_id != big_folder)
            .where(Job.folder_id.in_(select(Folder.parent_id).where(Folder.user_id == user_id)))
            .group_by(Job.folder_id).order_by(Job.folder_id).limit(1)
        ) or big_folder
        return {"user_id": user_id, "token": token, "root_id": root_id, "big_folder": big_folder,
                "typical_folder": typical, "job_id": first_job}


def _tree(connection: Any, user_id: int, root_id: int, count: int, now: datetime
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Folders three levels deep under the root (100 clients, 10 areas each, the rest below)."""
    next_id = _next_id(connection, Folder)
    folders: list[dict[str, Any]] = []
    paths: list[dict[str, Any]] = []
    ancestors: dict[int, list[tuple[int, int]]] = {root_id: [(root_id, 0)]}

    def add(parent: int, name: str) -> int:
        nonlocal next_id
        folder_id = next_id
        next_id += 1
        folders.append({"id": folder_id, "user_id": user_id, "parent_id": parent, "name": name,
                        "created_at": now})
        chain = [(a, d + 1) for a, d in ancestors[parent]] + [(folder_id, 0)]
        ancestors[folder_id] = chain
        paths.extend({"ancestor_id": a, "descendant_id": folder_id, "depth": d} for a, d in chain)
        return folder_id

    level1 = [add(root_id, f"Client {n}") for n in range(min(100, count))]
    level2 = []
    for parent in level1:
        for n in range(10):
            if len(folders) >= count:
                break
            level2.append(add(parent, f"Area {n}"))
    n = 0
    while len(folders) < count and level2:
        add(level2[n % len(level2)], f"Campaign set {n}")
        n += 1
    return folders, paths


def count_statements(app: Flask, token: str, url: str) -> int:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            statements.append(statement)

    with app.app_context():
        engine: Engine = db.engine
    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = token
        flask_session["_fresh"] = True
    client.get(url)  # warm caches (zone data, templates)
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements)


def session_cookie(app: Flask, token: str) -> str:
    """The session cookie a browser holds after its first page: logged in, with the CSRF token
    and session identifier the app adds then (without them every page would sign and send a
    new cookie, which no browser's second page does)."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    client = app.test_client()
    client.set_cookie("session", serializer.dumps({"_user_id": token, "_fresh": True}))
    assert client.get("/bench/layout").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _serve(app: Flask, port_queue: Any) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    port_queue.put(server.server_port)
    server.serve_forever()


def requests_per_second(port: int, path: str, cookie: str, seconds: float) -> tuple[float, int]:
    done = 0
    size = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path, headers={"Cookie": f"session={cookie}"})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        size = len(body)
        done += 1
    return done / (time.perf_counter() - start), size


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measured page")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ppc-bench-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = build_app(database_url, workdir / "instance")
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)

    started = time.perf_counter()
    small = make_user_with(app, "small@bench.test", folders=3, jobs=10)
    big = make_user_with(app, "big@bench.test", folders=args.folders, jobs=args.jobs)
    with app.app_context():
        _settle(db.engine)
    built = time.perf_counter() - started
    with app.app_context():
        def jobs_in(folder_id: int) -> int:
            return db.session.scalar(select(func.count()).select_from(Job).where(
                Job.folder_id == folder_id)) or 0

        sizes = {"typical folder": jobs_in(big["typical_folder"]),
                 "big folder": jobs_in(big["big_folder"])}
        jobs_total = db.session.scalar(select(func.count()).select_from(Job).where(
            Job.user_id == big["user_id"]))
        folders_total = db.session.scalar(select(func.count()).select_from(Folder).where(
            Folder.user_id == big["user_id"]))
        db.session.remove()

    pages: dict[str, Callable[[dict[str, Any]], str]] = {
        "folder page (typical folder)": lambda u: f"/folders/{u['typical_folder']}",
        "folder page (a tenth of all jobs)": lambda u: f"/folders/{u['big_folder']}",
        f"search page (“{SEARCH_TERM}”)": lambda u: f"/folders/search?q={SEARCH_TERM}",
    }
    queries = {name: {"10 jobs": count_statements(app, small["token"], url(small)),
                      f"{jobs_total:,} jobs": count_statements(app, big["token"], url(big))}
               for name, url in pages.items()}
    bare_path = f"/bench/bare/{big['job_id']}"
    for name, path in (("bare endpoint", bare_path), ("empty page in the layout", "/bench/layout")):
        counted = count_statements(app, big["token"], path)
        queries[name] = {"10 jobs": counted, f"{jobs_total:,} jobs": counted}

    with app.app_context():
        db.engine.dispose()  # the server process opens its own connections
    ports: Any = multiprocessing.get_context("fork").Queue()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(app, ports), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        cookie = session_cookie(app, big["token"])
        targets = {"bare endpoint": bare_path, "empty page in the layout": "/bench/layout",
                   **{name: url(big) for name, url in pages.items()}}
        for path in targets.values():
            requests_per_second(port, path, cookie, 0.5)  # warm up
        # Rounds alternate the pages, so a busy moment on the machine hits all of them alike.
        rounds = 10
        totals = {name: [0.0, 0] for name in targets}
        for _ in range(rounds):
            for name, path in targets.items():
                rps, size = requests_per_second(port, path, cookie, args.seconds / rounds)
                totals[name][0] += rps / rounds
                totals[name][1] = size
        speed = {name: (rps, size) for name, (rps, size) in totals.items()}
    finally:
        server.terminate()
        server.join(timeout=10)

    bare = speed["bare endpoint"][0]
    result = {
        "database": database_url.split(":")[0],
        "folders": folders_total,
        "jobs": jobs_total,
        "build_seconds": round(built, 1),
        "requests_per_second": {name: round(rps, 1) for name, (rps, _) in speed.items()},
        "ratio_to_bare": {name: round(rps / bare, 3) for name, (rps, _) in speed.items()},
        "page_bytes": {name: size for name, (_, size) in speed.items()},
        "jobs_in_measured_folders": sizes,
        "sql_statements_per_page": queries,
    }
    print(f"{folders_total:,} folders, {jobs_total:,} jobs on {result['database']} "
          f"(built in {built:.1f} s); the typical folder holds {sizes['typical folder']} jobs, "
          f"the big one {sizes['big folder']:,} (its first 50 shown)")
    print("The bare endpoint runs one indexed query; with the session cookie Flask-Login also "
          "loads the user, as on every page.")
    print(f"{'page':38} {'req/s':>8} {'ratio':>7} {'SQL @10 jobs':>13} {'SQL @' + format(jobs_total, ','):>14}")
    for name, (rps, _) in speed.items():
        ratio = f"{rps / bare:.2f}"
        counts = queries[name]
        small_q = counts["10 jobs"]
        big_q = counts[f"{jobs_total:,} jobs"]
        print(f"{name:38} {rps:8.1f} {ratio:>7} {small_q:>13} {big_q:>14}")
    output = Path("bench/output")
    output.mkdir(parents=True, exist_ok=True)
    (output / "folders.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
