"""The backfill: 13 months of history for a new account, a chunk of months per request.

It walks back from the newest days; each stored chunk moves `backfill_done_from` in the same
transaction as its rows, so a backfill stopped by a restart resumes at the next chunk and
never pulls a stored one again. Also here: the login page's progress and "Refresh now".
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ppc_robot.lib.models import ClientAccount, ClientAccountStatus
from ppc_robot.lib.models.stats import StatsState
from ppc_robot.lib.stats.fetch import AccountWork, Logins, fetch_rows
from ppc_robot.lib.stats.schedule import next_chunk
from ppc_robot.lib.stats.settings import StatsSettings
from ppc_robot.lib.stats.store import store_days


def backfill_account(factory: sessionmaker[Session], settings: StatsSettings, logins: Logins,
                     in_flight: threading.Semaphore, item: AccountWork, now: datetime) -> int:
    """Pull the account's remaining history chunk by chunk; returns how many were stored.

    A failing chunk raises: the chunks before it stay stored, and the next try starts at it.
    """
    stored = 0
    while True:
        with factory() as session:
            state = session.get_one(StatsState, item.account.client_account_id)
            if state.backfill_from is None or state.backfill_until is None:
                return stored
            chunk = next_chunk(state.backfill_from, state.backfill_until,
                               state.backfill_done_from, settings.chunk_months)
            if chunk is None:
                state.backfill_next_at = None
                session.commit()
                return stored
        first, last = chunk
        rows = fetch_rows(logins, item, first, last, settings, in_flight)
        logins.note(item.login.service_account_id, None)
        with factory() as session:
            store_days(session, item.account, first, last, rows, now,
                   moved_threshold=settings.moved_percent)
            session.execute(update(StatsState).where(
                StatsState.client_account_id == item.account.client_account_id).values(
                backfill_done_from=first, backfill_attempts=0))
            session.commit()
        stored += 1


@dataclass(frozen=True)
class StoreProgress:
    """Where the store stands for one login's accounts, for its page."""

    accounts: int
    backfilled: int
    # How far back the history of the accounts still backfilling reaches (None: not started).
    reached: date | None
    refreshed_through: date | None
    failing: int
    last_error: str | None

    @property
    def is_complete(self) -> bool:
        return self.backfilled == self.accounts


def store_progress(session: Session, service_account_ids: Sequence[int]) -> dict[int, StoreProgress]:
    """The store's progress per login (active accounts only), in one query."""
    if not service_account_ids:
        return {}
    done = (StatsState.backfill_done_from.is_not(None)
            & (StatsState.backfill_done_from <= StatsState.backfill_from)) | (
        StatsState.backfill_from.is_(None) & StatsState.client_account_id.is_not(None))
    pending_from = func.min(StatsState.backfill_done_from).filter(~done)
    rows = session.execute(
        select(ClientAccount.service_account_id, func.count(ClientAccount.id),
               func.count(StatsState.client_account_id).filter(done), pending_from,
               func.max(StatsState.refreshed_through),
               func.count(StatsState.last_error), func.max(StatsState.last_error_at))
        .outerjoin(StatsState, StatsState.client_account_id == ClientAccount.id)
        .where(ClientAccount.service_account_id.in_(service_account_ids),
               ClientAccount.status == ClientAccountStatus.ACTIVE)
        .group_by(ClientAccount.service_account_id)).all()
    errors = dict(session.execute(
        select(ClientAccount.service_account_id, StatsState.last_error)
        .join(StatsState, StatsState.client_account_id == ClientAccount.id)
        .where(ClientAccount.service_account_id.in_(service_account_ids),
               StatsState.last_error.is_not(None))
        .order_by(StatsState.last_error_at)).all())
    return {login: StoreProgress(total, backfilled, reached, through, failing, errors.get(login))
            for login, total, backfilled, reached, through, failing, _at in rows}


def request_refresh(session: Session, service_account_id: int, now: datetime) -> int:
    """Make the login's accounts due at once (a refresh, and any backfill left); flushes.

    Returns how many accounts were made due; those without a state get one at the next step.
    """
    accounts = select(ClientAccount.id).where(
        ClientAccount.service_account_id == service_account_id,
        ClientAccount.status == ClientAccountStatus.ACTIVE)
    changed = session.execute(update(StatsState).where(
        StatsState.client_account_id.in_(accounts)).values(next_refresh_at=now)).rowcount
    session.execute(update(StatsState).where(
        StatsState.client_account_id.in_(accounts), StatsState.backfill_next_at.is_not(None)
    ).values(backfill_next_at=now))
    session.flush()
    return changed or 0
