"""Clients: client accounts grouped across platforms, with budgets and targets."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from ppc_robot.lib.bounds import MONEY, PERCENT, PNO, ROAS, check_number
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Client, ClientAccount, Job, User, jobs_client_accounts
from ppc_robot.lib.models.accounts import ACCOUNT_NAME_MAX
from ppc_robot.lib.names import names_checked, same_name

logger = logging.getLogger(__name__)


class ClientError(PpcRobotError):
    """A client cannot be saved as asked; the message is for the user."""


def clients_of(session: Session, user: User) -> Sequence[Client]:
    """The user's clients by name, with their client accounts."""
    return session.scalars(
        select(Client).where(Client.owned_by(user.id))
        .options(selectinload(Client.client_accounts)).order_by(Client.name)
    ).all()


def save_client(
    session: Session,
    client: Client,
    *,
    name: str,
    currency: str,
    monthly_budget: Decimal | None = None,
    target_cpa: Decimal | None = None,
    target_roas: Decimal | None = None,
    target_pno: Decimal | None = None,
    pacing_tolerance: Decimal | None = None,
    client_accounts: Sequence[ClientAccount] | None = None,
) -> Client:
    """Create or update `client`; with `client_accounts`, they become exactly its accounts.

    Raises ClientError when the user has another client of that name, in any case, and
    OutOfRangeError for a budget or target outside its bounds (nothing is changed then).
    """
    check_number("monthly_budget", monthly_budget, MONEY)
    check_number("target_cpa", target_cpa, MONEY)
    check_number("target_roas", target_roas, ROAS)
    check_number("target_pno", target_pno, PNO)
    check_number("pacing_tolerance", pacing_tolerance, PERCENT)
    name = name.strip()[:ACCOUNT_NAME_MAX]
    clash = select(Client.id).where(Client.user_id == client.user_id, same_name(Client.name, name))
    if client.id is not None:
        clash = clash.where(Client.id != client.id)
    taken = ClientError(N_("You already have a client called “%(name)s”."), name=name)
    if session.scalar(clash) is not None:
        raise taken
    with names_checked(session, taken):
        client.name, client.currency = name, currency.upper()
        client.monthly_budget, client.target_cpa = monthly_budget, target_cpa
        client.target_roas, client.target_pno = target_roas, target_pno
        if pacing_tolerance is not None:  # left blank: the client keeps the one it has
            client.pacing_tolerance = pacing_tolerance
        session.add(client)
    if client_accounts is not None:
        if any(a.user_id != client.user_id for a in client_accounts):
            raise ValueError("client accounts of another user")
        chosen = {a.id for a in client_accounts}
        for account in session.scalars(select(ClientAccount).where(
                ClientAccount.client_id == client.id)):
            if account.id not in chosen:
                account.client_id = None
        for account in client_accounts:
            account.client_id = client.id
    session.flush()
    session.expire(client, ["client_accounts"])
    return client


def accounts_moving_to(session: Session, client: Client,
                       client_accounts: Sequence[ClientAccount]) -> list[tuple[ClientAccount, Client]]:
    """Those of `client_accounts` that another client holds now, each with that client.

    Saving them to `client` takes them from it (an account belongs to one client at most).
    """
    others = {a.client_id for a in client_accounts
              if a.client_id is not None and a.client_id != client.id}
    if not others:
        return []
    holders = {c.id: c for c in session.scalars(select(Client).where(
        Client.id.in_(others), Client.user_id == client.user_id))}
    return [(a, holders[a.client_id]) for a in client_accounts if a.client_id in holders]


def jobs_of_client(session: Session, client: Client) -> Sequence[Job]:
    """Jobs at the client's level, and jobs naming one of its accounts."""
    names_account = exists().where(
        jobs_client_accounts.c.job_id == Job.id,
        jobs_client_accounts.c.client_account_id == ClientAccount.id,
        ClientAccount.client_id == client.id)
    return session.scalars(select(Job).where(
        Job.user_id == client.user_id, or_(Job.client_id == client.id, names_account))
        .order_by(Job.name)).all()


def delete_client(session: Session, client: Client) -> None:
    """Delete the client; its accounts stay, ungrouped, and jobs at its level lose it."""
    session.delete(client)
    session.flush()
