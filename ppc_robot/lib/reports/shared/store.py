"""Bringing the statistics store up to date for a run that reads it.

A report that reads the store (not the platforms' reports) first pulls again, for each
account, the days of its period that the store lacks or that are still inside the re-pull
window (a day is re-pulled by the housekeeping for `repull_days` after it ends, as late
conversions arrive): one request per account through the run's own platform clients (the
shared fetch: quota, retries, missing accounts), stored with the store's own `store_days`, so
the report's numbers are the platform's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import AccountDay, utcnow
from ppc_robot.lib.platforms import ReportRequest
from ppc_robot.lib.reports.shared.accounts import AccountToRead
from ppc_robot.lib.reports.shared.fetch import AccountCall, retried
from ppc_robot.lib.reports.shared.run import ReportRun
from ppc_robot.lib.stats import AccountRef, StatsSettings, store_days


def stale_from(session: Any, account_id: int, first: date, through: date, now: datetime,
               repull_days: int) -> date | None:
    """The first day of `first`..`through` the store lacks or may still change; None if none."""
    fetched = dict(session.execute(select(AccountDay.day, AccountDay.fetched_at).where(
        AccountDay.client_account_id == account_id, AccountDay.day >= first,
        AccountDay.day <= through)).all())
    day = first
    while day <= through:
        fetched_at = fetched.get(day)
        settles = datetime.combine(day + timedelta(days=1 + repull_days), time(0), tzinfo=UTC)
        if fetched_at is None or fetched_at.replace(tzinfo=fetched_at.tzinfo or UTC) < settles:
            return day
        day += timedelta(days=1)
    return None


def _refresh(call: AccountCall, *, run: ReportRun, first: date, through: date,
             repull_days: int, user_id: int) -> int:
    """Pull and store the account's stale days (one request); returns the days stored."""
    account = call.account
    factory = run.context.session_factory
    with factory() as session:
        start = stale_from(session, account.client_account_id, first, through, utcnow(),
                           repull_days)
    if start is None:
        return 0
    request = ReportRequest(account=account.remote(), date_from=start, date_to=through,
                            dimensions=("date", "campaign"))

    def attempt() -> list[Any]:
        with call.slot:
            return list(call.client().fetch_report(request))

    rows = retried(attempt)
    with factory() as session:  # the runner's own step: the account's days commit together
        store_days(session, AccountRef(account.client_account_id, user_id, account.currency),
                   start, through, rows, utcnow())
        session.commit()
    return (through - start).days + 1


def refresh_store(run: ReportRun, accounts: Sequence[AccountToRead], first: date,
                  through: date) -> list[AccountToRead]:
    """Re-pull the accounts' stale days of `first`..`through`; returns the accounts read (the
    others go to the run's `missing`). Raises RunFailed when none could be read."""
    context = run.context
    stats = StatsSettings.from_config(context.settings.app_config)
    refreshed = run.fetch(list(accounts), lambda call: _refresh(
        call, run=run, first=first, through=through, repull_days=stats.repull_days,
        user_id=context.user_id), describe=lambda days: N_("%(count)d days refreshed") % {"count": days})
    return [account for account, _ in refreshed]
