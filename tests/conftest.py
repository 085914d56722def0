"""Database (SQLite, or TEST_DATABASE_URL), schema once per run, all tables emptied after each test."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from ppc_robot.lib.credentials import generate_key
from ppc_robot.lib.db import make_engine, make_session_factory
from ppc_robot.lib.i18n import compile_catalogs
from ppc_robot.lib.models import Base, User
from ppc_robot.web import create_app
from ppc_robot.web import models as _web_models  # noqa: F401 - registers the web_* tables
from ppc_robot.web.extensions import db
from tests.factories import Workspace, make_workspace

pytest_plugins = ["tests.support.notifications"]  # slack_stub, dropping_smtp, session_factory

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                        r'name="csrf_token" value="([^"]+)"')


def pytest_configure(config: pytest.Config) -> None:
    compile_catalogs()  # the suite never runs on a missing or stale .mo


def _database_url(tmp_dir: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        Base.metadata.create_all(connection)
    yield engine
    engine.dispose()


def app_config(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.urandom(24).hex(),
        "PPC_ROBOT_CREDENTIALS_KEY": generate_key(),
        "INSTANCE_PATH": str(instance),
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def app(engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return create_app(app_config(database_url, tmp_path_factory.mktemp("instance")))


def empty_all_tables(engine: Engine) -> None:
    tables = [table.name for table in Base.metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                connection.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def session(engine: Engine, app: Flask) -> Iterator[Session]:
    """A plain SQLAlchemy session, as the worker and lib tests use; tables emptied afterwards."""
    # Deferred transactions, as a reader's: a test holds its session open across requests, and
    # an IMMEDIATE one would keep the write lock from the app it is calling.
    factory = make_session_factory(engine, immediate=False)
    with factory() as session:
        yield session
    with app.app_context():
        db.session.remove()
    empty_all_tables(engine)


@pytest.fixture
def workspace(session: Session) -> Workspace:
    ws = make_workspace(session)
    session.commit()
    return ws


@pytest.fixture
def other_workspace(session: Session) -> Workspace:
    ws = make_workspace(session)
    session.commit()
    return ws


@pytest.fixture
def user(workspace: Workspace) -> User:
    return workspace.user


@pytest.fixture
def other_user(other_workspace: Workspace) -> User:
    return other_workspace.user


@pytest.fixture
def client(app: Flask, session: Session) -> FlaskClient:
    from ppc_robot.web.ratelimits import reset_rate_limits

    reset_rate_limits(app)  # per-address limits count afresh in every test
    return app.test_client()


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], None]:
    """Log `user` in by writing the session directly, as Flask-Login would."""

    def do_login(user: User) -> None:
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = user.session_token
            flask_session["_fresh"] = True

    return do_login


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return next(group for group in match.groups() if group)


@pytest.fixture
def submit(client: FlaskClient) -> Callable[..., Any]:
    """Load the page at `url` and post `data` with the page's CSRF token, as a browser does."""

    def do_submit(url: str, data: dict[str, Any], *, follow_redirects: bool = False) -> Any:
        page = client.get(url)
        assert page.status_code == 200, f"GET {url} answered {page.status_code}"
        payload = {"csrf_token": csrf_token_from(page.text), **data}
        return client.post(url, data=payload, follow_redirects=follow_redirects)

    return do_submit


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(engine: Engine, app: Flask) -> Callable[[], Any]:
    """`with count_queries() as counter:` counts the SQL statements of both engines."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        with app.app_context():
            engines = {engine, db.engine}

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
                counter.statements.append(statement)

        for each in engines:
            event.listen(each, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            for each in engines:
                event.remove(each, "before_cursor_execute", record)

    return counting


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A real SMTP server on loopback; `smtp_server.messages` holds what it received."""
    from tests.support.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(app: Flask, smtp_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app sends its mail to the loopback SMTP server for this test."""
    for key, value in smtp_server.config().items():
        monkeypatch.setitem(app.config, key, value)
    return smtp_server
