"""Commands of the accounts area: `flask sync-accounts`, `flask rotate-credentials-key`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ppc_robot.lib.accounts import rotate_credentials_key, sync_service_account
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.models import ServiceAccount, ServiceAccountStatus
from ppc_robot.web.accounts.platforms import current_settings, current_vault
from ppc_robot.web.extensions import db


@click.command("sync-accounts")
@click.option("--service-account-id", type=int, default=None,
              help="Only this login (default: every linked login).")
@with_appcontext
def sync_accounts_command(service_account_id: int | None) -> None:
    """Sync the client accounts of linked logins now."""
    stmt = select(ServiceAccount).where(ServiceAccount.status != ServiceAccountStatus.UNLINKED)
    if service_account_id is not None:
        stmt = stmt.where(ServiceAccount.id == service_account_id)
    logins = db.session.scalars(stmt.order_by(ServiceAccount.id)).all()
    failed = 0
    for login in logins:
        result = sync_service_account(db.session(), login, vault=current_vault(),
                                      settings=current_settings())
        db.session.commit()
        failed += 0 if result.ok else 1
        click.echo(f"Login {login.id} ({login.platform.label}): {result.summary()}")
    if failed:
        raise click.ClickException(f"{failed} of {len(logins)} login(s) could not be synced.")
    click.echo(f"{len(logins)} login(s) synced.")


@click.command("rotate-credentials-key")
@with_appcontext
def rotate_credentials_key_command() -> None:
    """Re-encrypt every stored secret under the first key of PPC_ROBOT_CREDENTIALS_KEY."""
    try:
        count = rotate_credentials_key(db.session(), current_vault())
    except PpcRobotError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{count} secret(s) re-encrypted under the current key.")


COMMANDS = (sync_accounts_command, rotate_credentials_key_command)
