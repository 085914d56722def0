"""The migrations create exactly the models, and go back down to nothing (SQLite or PostgreSQL)."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from types import SimpleNamespace

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, make_url, select, text
from sqlalchemy.exc import IntegrityError

from ppc_robot.lib.db import make_engine
from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.models import Base, Folder, utcnow
from ppc_robot.lib.models.jobs import JOB_COUNT_TRIGGERS
from ppc_robot.web import create_app
from ppc_robot.web.extensions import db
from tests.conftest import app_config
from tests.factories import make_job, make_user

SEED_TABLES = {
    "robot_jobs", "robot_job_definitions", "robot_folders", "robot_folder_paths", "robot_tags",
    "robot_jobs_tags", "robot_service_accounts", "robot_client_accounts",
    "robot_client_account_tags", "robot_client_accounts_tags", "robot_users", "robot_clients",
    "robot_job_runs", "robot_notifications", "robot_notification_channels",
    "robot_notification_deliveries", "robot_audit_log", "web_plans", "web_subscriptions",
    "web_invites",
}


@pytest.fixture
def empty_database_url(database_url: str, tmp_path) -> Iterator[str]:
    """A database with nothing in it, of the kind the suite runs on."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"ppc_robot_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_creates_exactly_the_models_and_downgrade_removes_them(empty_database_url, tmp_path):
    app = create_app(app_config(empty_database_url, tmp_path / "instance"))

    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            with warnings.catch_warnings():
                # SQLite's reflection leaves out expression indexes (lower(name)); they are
                # checked by name below instead.
                warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
                warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
                differences = compare_metadata(context, Base.metadata)
            tables = set(inspect(connection).get_table_names())
            job_indexes = set(connection.scalars(text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'robot_jobs'"
                if connection.dialect.name == "postgresql" else
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'robot_jobs'"
            )))
            triggers = set(connection.scalars(text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'robot_jobs'::regclass AND NOT tgisinternal"
                if connection.dialect.name == "postgresql" else
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'robot_jobs'"
            )))
        # The triggers the migration made keep a folder's job count, as create_all's do.
        session = db.session()
        user = make_user(session)
        made = [make_job(session, user, name=f"Counted {n}") for n in range(3)]
        session.delete(made[0])
        session.flush()
        kept = session.scalar(select(Folder.job_count).where(Folder.id == made[1].folder_id))
        session.rollback()
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as connection:
            left = set(inspect(connection).get_table_names())
        db.engine.dispose()

    assert differences == []
    assert {"ix_robot_jobs_user_lower_name", "ix_robot_jobs_folder_lower_name"} <= job_indexes
    assert {name for name in triggers if name.startswith("robot_jobs_count")} == model_triggers(empty_database_url)
    assert kept == 2
    assert tables >= SEED_TABLES
    assert tables - {"alembic_version"} == set(Base.metadata.tables)
    assert left <= {"alembic_version"}


def test_job_counts_are_filled_in_for_existing_folders_and_gone_on_the_way_down(empty_database_url, tmp_path):
    app = create_app(app_config(empty_database_url, tmp_path / "instance"))

    with app.app_context():
        flask_migrate.upgrade()
        session = db.session()
        user = make_user(session)
        jobs = [make_job(session, user, name=f"Existing {n}") for n in range(3)]
        folder_id = jobs[0].folder_id
        session.commit()
        db.session.remove()
        flask_migrate.downgrade(revision="0010")
        with db.engine.connect() as connection:
            columns_down = {c["name"] for c in inspect(connection).get_columns("robot_folders")}
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            kept = connection.scalar(select(Folder.job_count).where(Folder.id == folder_id))
        db.engine.dispose()

    assert "job_count" not in columns_down
    assert kept == 3


def model_triggers(url: str) -> set[str]:
    """The names of the triggers create_all makes on robot_jobs for this kind of database."""
    statements = JOB_COUNT_TRIGGERS[make_url(url).get_backend_name()]
    return {statement.split()[2] for statement in statements if statement.startswith("CREATE TRIGGER")}


def test_sqlite_connections_enforce_foreign_keys_and_wait_when_busy(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.sqlite3'}")

    with engine.connect() as connection:
        foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    engine.dispose()

    assert foreign_keys == 1
    assert journal == "wal"
    assert timeout >= 5000


def test_names_differing_only_in_case_are_numbered_apart_and_then_refused(empty_database_url, tmp_path):
    app = create_app(app_config(empty_database_url, tmp_path / "instance"))

    with app.app_context():
        flask_migrate.upgrade(revision="0011")
        session = db.session()
        # Written in SQL: the User model carries columns later revisions add.
        user = SimpleNamespace(id=session.scalar(text(
            "INSERT INTO robot_users (email, name, password_hash, time_zone, is_admin, is_active, "
            "session_token, created_at) VALUES ('old@example.test', '', 'x', 'UTC', false, true, "
            ":token, :t) RETURNING id"), {"token": uuid.uuid4().hex, "t": utcnow()}))
        root = root_folder(session, user)
        for name in ("Acme", "ACME", "acme", "Acme (2)"):
            session.execute(text("INSERT INTO robot_folders (user_id, parent_id, name, job_count, "
                                 "created_at) VALUES (:u, :p, :n, 0, :t)"),
                            {"u": user.id, "p": root.id, "n": name, "t": utcnow()})
        for table in ("robot_tags", "robot_clients"):
            for name in ("Brand", "brand"):
                session.execute(text(f"INSERT INTO {table} (user_id, name, colour, created_at) "
                                     "VALUES (:u, :n, '#000000', :t)" if table == "robot_tags" else
                                     f"INSERT INTO {table} (user_id, name, currency, created_at) "
                                     "VALUES (:u, :n, 'EUR', :t)"),
                                {"u": user.id, "n": name, "t": utcnow()})
        for n in range(2):
            session.execute(text("INSERT INTO web_invites (email, token_hash, created_at, "
                                 "expires_at, sent_count) VALUES ('twice@example.test', :h, :t, "
                                 ":t, 1)"), {"h": str(n) * 64, "t": utcnow()})
        session.commit()
        db.session.remove()
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            open_invites = connection.scalars(text(
                "SELECT id FROM web_invites WHERE revoked_at IS NULL")).all()
            folders = connection.scalars(text(
                "SELECT name FROM robot_folders WHERE parent_id IS NOT NULL ORDER BY id")).all()
            tags = connection.scalars(text("SELECT name FROM robot_tags ORDER BY id")).all()
            clients = connection.scalars(text("SELECT name FROM robot_clients ORDER BY id")).all()
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(text("UPDATE robot_clients SET name = 'BRAND' WHERE name = 'brand (2)'"))
        flask_migrate.downgrade(revision="0011")
        with db.engine.begin() as connection:  # the rule is gone again on the way down
            connection.execute(text("UPDATE robot_clients SET name = 'BRAND' WHERE name = 'brand (2)'"))
        db.engine.dispose()

    assert open_invites == [2]  # the newer invite stays open, the older one is revoked
    assert folders == ["Acme", "ACME (3)", "acme (4)", "Acme (2)"]
    assert tags == ["Brand", "brand (2)"]
    assert clients == ["Brand", "brand (2)"]
