"""The housekeeping step that keeps the store fresh: daily re-pulls and backfills.

`refresh_due_statistics` is bounded (a batch of accounts per step), idempotent (upserts) and
safe to run twice at once (accounts are claimed by a conditional UPDATE). It owns its
sessions and commits each account's result on its own: one failing login leaves the others'
numbers fresh, and its accounts carry the error (shown as stale, with the reason) and come
back after a doubling wait.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from ppc_robot.lib.accounts import AccountError, vault_from_config
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.models.stats import StatsState
from ppc_robot.lib.platforms import PlatformError, QuotaExhaustedError
from ppc_robot.lib.stats.backfill import backfill_account
from ppc_robot.lib.stats.claims import (
    claim_backfills,
    claim_refreshes,
    create_missing_states,
    work_of,
)
from ppc_robot.lib.stats.fetch import AccountWork, Logins, fetch_rows
from ppc_robot.lib.stats.schedule import (
    chunks_left,
    next_refresh_after,
    repull_range,
    retry_delay,
)
from ppc_robot.lib.stats.settings import StatsSettings
from ppc_robot.lib.stats.store import store_days

logger = logging.getLogger(__name__)


@dataclass
class StepReport:
    """What one step did."""

    created: int = 0
    refreshed: int = 0
    backfilled: int = 0  # chunks stored
    failed: int = 0


def refresh_due_statistics(session_factory: sessionmaker[Session], settings: StatsSettings,
                           now: datetime) -> StepReport:
    """Refresh the accounts whose day has settled and backfill those with history left."""
    report = StepReport()
    with session_factory() as session:
        report.created = create_missing_states(session, now, settings)
        session.commit()
    with session_factory() as session:
        refreshes = claim_refreshes(session, now, settings)
        backfills = claim_backfills(session, now, settings)
        session.commit()
        work = work_of(session, refreshes, "refresh") + work_of(session, backfills, "backfill")
    if not work:
        return report
    vault = _vault(settings)
    planned = Counter[int]()
    chunks = _backfill_requests(session_factory, backfills, settings)
    for item in work:
        planned[item.login.service_account_id] += (
            chunks.get(item.account.client_account_id, 0) if item.kind == "backfill" else 1)
    logins = Logins(session_factory, settings, vault, planned)
    in_flight = threading.Semaphore(settings.concurrency)
    # `concurrency` platform calls at a time, and twice as many threads: while one thread
    # writes its rows, another's call has taken its place.
    threads = min(2 * settings.concurrency, len(work))
    with ThreadPoolExecutor(threads, thread_name_prefix="stats") as pool:
        futures = {pool.submit(_run, session_factory, settings, logins, in_flight, item, now): item
                   for item in work}
        for future in as_completed(futures):
            done, failed = future.result()
            if futures[future].kind == "refresh":
                report.refreshed += 0 if failed else 1
            else:
                report.backfilled += done
            report.failed += failed
    logins.record(now)
    logger.info("statistics: %s refreshed, %s backfill chunks, %s failed, %s new accounts",
                report.refreshed, report.backfilled, report.failed, report.created)
    return report


def _vault(settings: StatsSettings) -> Vault | None:
    try:
        return vault_from_config(settings.credentials_key)
    except AccountError:
        return None  # Sandbox logins need none; others fail with a sentence


def _backfill_requests(factory: sessionmaker[Session], ids: list[int],
                       settings: StatsSettings) -> dict[int, int]:
    """How many requests each claimed backfill has left (the quota is planned with them)."""
    if not ids:
        return {}
    with factory() as session:
        rows = session.execute(select(
            StatsState.client_account_id, StatsState.backfill_from, StatsState.backfill_until,
            StatsState.backfill_done_from).where(StatsState.client_account_id.in_(ids))).all()
    return {client_account_id: chunks_left(first, until, done, settings.chunk_months)
            for client_account_id, first, until, done in rows
            if first is not None and until is not None}


def _run(factory: sessionmaker[Session], settings: StatsSettings, logins: Logins,
         in_flight: threading.Semaphore, item: AccountWork, now: datetime) -> tuple[int, int]:
    """One account's work; returns (chunks or days stored, 1 when it failed)."""
    try:
        if item.kind == "backfill":
            return backfill_account(factory, settings, logins, in_flight, item, now), 0
        refresh_account(factory, settings, logins, in_flight, item, now)
        return 1, 0
    except Exception as exc:  # the boundary: stored on the account, shown as stale
        if not isinstance(exc, PlatformError | PpcRobotError):
            logger.exception("statistics of account %s failed", item.account.client_account_id)
        logins.note(item.login.service_account_id, exc)
        record_failure(factory, settings, item, exc, now)
        return 0, 1


def refresh_account(factory: sessionmaker[Session], settings: StatsSettings, logins: Logins,
                    in_flight: threading.Semaphore, item: AccountWork, now: datetime) -> None:
    """Re-pull the account's last days in one request and store them with its next refresh."""
    first, last = repull_range(item.remote.time_zone, now, settings.repull_days)
    rows = fetch_rows(logins, item, first, last, settings, in_flight)
    logins.note(item.login.service_account_id, None)
    with factory() as session:
        store_days(session, item.account, first, last, rows, now,
                   moved_threshold=settings.moved_percent)
        through = StatsState.refreshed_through
        session.execute(update(StatsState).where(
            StatsState.client_account_id == item.account.client_account_id).values(
            refreshed_at=now, attempts=0, last_error=None, last_error_at=None,
            refreshed_through=case((through > last, through), else_=last),
            next_refresh_at=next_refresh_after(item.remote.time_zone, now,
                                               settings.settle_hours)))
        session.commit()


def record_failure(factory: sessionmaker[Session], settings: StatsSettings, item: AccountWork,
                   exc: Exception, now: datetime) -> None:
    """Store why the account's numbers are stale and when to try again (doubling waits; an
    exhausted quota waits for its window)."""
    message = str(exc) if isinstance(exc, PlatformError | PpcRobotError) else (
        f"unexpected error ({type(exc).__name__})")
    with factory() as session:
        state = session.get(StatsState, item.account.client_account_id)
        if state is None:
            return
        counter, column = (("attempts", "next_refresh_at") if item.kind == "refresh"
                           else ("backfill_attempts", "backfill_next_at"))
        attempts = getattr(state, counter) + 1
        retry_at = now + retry_delay(attempts, settings.retry_seconds, settings.retry_max_seconds)
        if isinstance(exc, QuotaExhaustedError):
            retry_at = max(exc.next_attempt_at, now)
        session.execute(update(StatsState).where(
            StatsState.client_account_id == item.account.client_account_id).values(
            {counter: attempts, "last_error": message[:2000], "last_error_at": now,
             column: retry_at}))
        session.commit()
    logger.info("statistics of account %s failed (%s), again at %s",
                item.account.client_account_id, type(exc).__name__, retry_at)
