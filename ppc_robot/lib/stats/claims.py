"""Which accounts a housekeeping step works on, claimed so that two steps never share one.

A claim is one conditional UPDATE: it moves the account's due time (next_refresh_at for the
daily refresh, backfill_next_at for the backfill) a lease ahead, only where it is still due.
Of two steps running at once each account goes to one; an account whose worker died is
taken again when the lease lapses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, literal, or_, select, update
from sqlalchemy.orm import Session

from ppc_robot.lib.models import (
    ClientAccount,
    ClientAccountStatus,
    ServiceAccount,
    ServiceAccountStatus,
    User,
    UtcDateTime,
)
from ppc_robot.lib.models.stats import StatsState
from ppc_robot.lib.platforms import RemoteAccount
from ppc_robot.lib.stats.fetch import AccountWork, LoginRef
from ppc_robot.lib.stats.schedule import backfill_range
from ppc_robot.lib.stats.settings import StatsSettings
from ppc_robot.lib.stats.store import AccountRef, dialect_insert

# Logins whose calls can work; refused ones wait for the user to authorise them again.
WORKING_LOGINS = (ServiceAccountStatus.VALID, ServiceAccountStatus.RATE_LIMITED)


def kept_fresh() -> ColumnElement[bool]:
    """The accounts the store keeps: active, under a working login of an active user."""
    return and_(ClientAccount.status == ClientAccountStatus.ACTIVE,
                ServiceAccount.status.in_(WORKING_LOGINS), User.is_active.is_(True))


def create_missing_states(session: Session, now: datetime, settings: StatsSettings) -> int:
    """Give every kept account without one a state: refresh due now, backfill pending.

    Safe when two steps do it at once (ON CONFLICT DO NOTHING). Returns how many were made.
    """
    missing = session.execute(
        select(ClientAccount.id, ClientAccount.time_zone)
        .join(ServiceAccount, ServiceAccount.id == ClientAccount.service_account_id)
        .join(User, User.id == ClientAccount.user_id)
        .where(kept_fresh(), ~exists().where(StatsState.client_account_id == ClientAccount.id))
        .order_by(ClientAccount.id)).all()
    rows = []
    for client_account_id, time_zone in missing:
        first, until = backfill_range(time_zone, now, settings.backfill_months)
        backfill = settings.backfill_months > 0
        rows.append({"client_account_id": client_account_id, "next_refresh_at": now,
                     "backfill_from": first if backfill else None,
                     "backfill_until": until if backfill else None,
                     "backfill_done_from": None, "backfill_next_at": now if backfill else None,
                     "attempts": 0, "backfill_attempts": 0})
    for start in range(0, len(rows), 500):
        statement = dialect_insert(session, StatsState.__table__).values(rows[start:start + 500])
        session.execute(statement.on_conflict_do_nothing(index_elements=["client_account_id"]))
    session.flush()
    return len(rows)


def _claim(session: Session, column: str, pending: ColumnElement[bool], now: datetime,
           settings: StatsSettings) -> list[int]:
    table = StatsState.__table__
    due_column = table.c[column]
    candidates = session.scalars(
        select(StatsState.client_account_id)
        .join(ClientAccount, ClientAccount.id == StatsState.client_account_id)
        .join(ServiceAccount, ServiceAccount.id == ClientAccount.service_account_id)
        .join(User, User.id == ClientAccount.user_id)
        .where(kept_fresh(), pending, due_column <= literal(now, UtcDateTime()))
        .order_by(due_column, StatsState.client_account_id)
        .limit(settings.batch)).all()
    if not candidates:
        return []
    lease = now + timedelta(seconds=settings.lease_seconds)
    claimed = session.scalars(
        update(table)
        .where(table.c.client_account_id.in_(candidates),
               due_column <= literal(now, UtcDateTime()))
        .values({column: lease})
        .returning(table.c.client_account_id)).all()
    return sorted(claimed)


def claim_refreshes(session: Session, now: datetime, settings: StatsSettings) -> list[int]:
    """Claim accounts whose daily refresh is due (at most `settings.batch`)."""
    return _claim(session, "next_refresh_at", literal(True), now, settings)


def backfill_pending() -> ColumnElement[bool]:
    """States whose backfill has history left to pull."""
    return and_(StatsState.backfill_from.is_not(None),
                or_(StatsState.backfill_done_from.is_(None),
                    StatsState.backfill_done_from > StatsState.backfill_from))


def claim_backfills(session: Session, now: datetime, settings: StatsSettings) -> list[int]:
    """Claim accounts with backfill left whose next chunk may be taken now."""
    return _claim(session, "backfill_next_at", backfill_pending(), now, settings)


def work_of(session: Session, ids: Sequence[int], kind: str) -> list[AccountWork]:
    """What the threads need of the claimed accounts, copied out of the session."""
    if not ids:
        return []
    rows = session.execute(
        select(ClientAccount, ServiceAccount)
        .join(ServiceAccount, ServiceAccount.id == ClientAccount.service_account_id)
        .where(ClientAccount.id.in_(ids)).order_by(ClientAccount.id)).all()
    return [AccountWork(
        account=AccountRef(account.id, account.user_id, account.currency),
        login=LoginRef(login.id, login.platform, login.credentials_encrypted),
        remote=RemoteAccount(account.external_id, account.name, account.currency,
                             account.time_zone, account.status,
                             dict(account.platform_extra or {})),
        kind=kind) for account, login in rows]
