"""Engines and sessions for web and worker alike, the SQLite connection settings, and the one SQL
function the two databases spell differently."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from typing import Any

from sqlalchemy import JSON, Engine, create_engine, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_WRITE_WAIT_SECONDS = 30.0


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def configure_engine(engine: Engine) -> Engine:
    """Give every SQLite connection of `engine` WAL, enforced foreign keys and a busy timeout.

    SQLite enforces foreign keys only when asked on each connection, and a writer that finds
    the database busy fails at once unless told to wait. Python's driver also opens its own
    transactions lazily; we take BEGIN over so that SAVEPOINTs and ROLLBACK behave (the recipe
    of SQLAlchemy's SQLite dialect documentation).
    """
    if not _is_sqlite(engine) or getattr(engine, "_ppc_robot_configured", False):
        return engine
    busy_timeout_ms = int(os.environ.get("PPC_ROBOT_SQLITE_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS))
    write_wait = float(os.environ.get("PPC_ROBOT_SQLITE_WRITE_WAIT_SECONDS",
                                      SQLITE_WRITE_WAIT_SECONDS))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "DEFERRED":
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            _begin_writing(connection.connection.driver_connection, mode, write_wait)

    engine._ppc_robot_configured = True  # type: ignore[attr-defined]
    return engine


def _begin_writing(dbapi_connection: sqlite3.Connection, mode: str, wait: float) -> None:
    """BEGIN IMMEDIATE (or EXCLUSIVE), tried again with growing, jittered pauses while another
    connection holds the write lock, for up to `wait` seconds in all.

    SQLite's busy handler waits at most the busy timeout, and it is no queue: a writer that keeps
    losing the lock to newcomers gives up with "database is locked" while the database is merely
    busy. Nothing has been read or written yet at this point, so trying again is always safe.
    Raises the last sqlite3.OperationalError once the time is up.
    """
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        try:
            dbapi_connection.execute(f"BEGIN {mode}")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(random.uniform(pause / 2, pause))
        pause = min(pause * 2, 0.25)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for `url` with the project's connection settings."""
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    else:
        options.setdefault("pool_pre_ping", True)
    return configure_engine(create_engine(url, **options))


def make_session_factory(engine: Engine, *, immediate: bool = True) -> sessionmaker[Session]:
    """Sessions for code that runs without a web request (worker, commands, tests).

    On SQLite their transactions start with BEGIN IMMEDIATE: a deferred transaction that reads
    and then writes fails at once with "database is locked" when another connection wrote in
    between (the busy timeout does not help there), and nearly every worker step writes.
    """
    bind = engine
    if immediate and _is_sqlite(engine):
        bind = engine.execution_options(sqlite_begin="IMMEDIATE")
    return sessionmaker(bind=bind, expire_on_commit=False)


class json_rows(FunctionElement[Any]):  # noqa: N801 (an SQL function, named as one)
    """Aggregate: a JSON list with one list of the given columns per row of the group
    (NULL or [] for no row), read back as Python lists.

    Lets one row of a list carry a small list of its own (a job's tags, a folder's path)
    instead of a second query per page.
    """

    type = JSON()
    inherit_cache = True
    name = "json_rows"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"
