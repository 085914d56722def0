"""Engines and sessions for web and worker alike, the SQLite connection settings, and the one SQL
function the two databases spell differently."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import JSON, Engine, create_engine, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SQLITE_BUSY_TIMEOUT_MS = 5000


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

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    engine._ppc_robot_configured = True  # type: ignore[attr-defined]
    return engine


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
