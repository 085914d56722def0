"""Command-line commands: `flask create-user`, `create-admin`, `seed-demo`, `deliver-notifications`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from ppc_robot.lib.db import make_session_factory
from ppc_robot.lib.demo import seed_demo
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.notifications.delivery import DeliveryConfig, run_deliveries
from ppc_robot.lib.users import create_user
from ppc_robot.web.extensions import db


def _create(email: str, password: str, *, is_admin: bool) -> None:
    try:
        user = create_user(db.session(), email, password, is_admin=is_admin)
    except PpcRobotError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{'Admin' if is_admin else 'User'} {user.email} created.")


@click.command("create-user")
@click.option("--email", prompt=True)
@click.password_option()
@with_appcontext
def create_user_command(email: str, password: str) -> None:
    """Create a user who can log in."""
    _create(email, password, is_admin=False)


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.password_option()
@with_appcontext
def create_admin_command(email: str, password: str) -> None:
    """Create an administrator."""
    _create(email, password, is_admin=True)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo user and workspace (or give the demo user a new password)."""
    login = seed_demo(db.session())
    db.session.commit()
    state = "created" if login.created else "already existed; new password set"
    click.echo(f"Demo user {state}. Log in as {login.user.email} with password {login.password}")


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Run the embedded worker (scheduler tick + thread pool) in the foreground."""
    import signal
    import threading

    from flask import current_app

    from ppc_robot.web.queue import start_embedded_worker

    worker = start_embedded_worker(current_app._get_current_object())  # type: ignore[attr-defined]
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("Worker running; Ctrl+C stops it.")
    stop.wait()
    worker.stop()


@click.command("deliver-notifications")
@with_appcontext
def deliver_notifications_command() -> None:
    """Send due e-mail and Slack notifications and the daily digests (the worker's job)."""
    from flask import current_app

    config = DeliveryConfig.from_config(current_app.config, Path(current_app.instance_path))
    report = run_deliveries(make_session_factory(db.engine), config)
    click.echo(f"{report.sent} delivered ({report.digests} digests), {report.retrying} to retry, "
               f"{report.given_up} given up, {report.skipped} skipped.")


def register_commands(app: Flask) -> None:
    from ppc_robot.web.accounts.commands import COMMANDS as ACCOUNTS_COMMANDS

    for command in (create_user_command, create_admin_command, seed_demo_command, worker_command,
                    deliver_notifications_command, *ACCOUNTS_COMMANDS):
        app.cli.add_command(command)
