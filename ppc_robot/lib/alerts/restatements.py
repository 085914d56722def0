"""Numbers that moved after delivery: a re-pull changed a day a finished run had reported.

Report types record what each run delivers (`record_coverage`: client accounts and days, one
`RunCoverage` row each, when the run starts and again when it delivered). When the store writes
an account's days (`store_days`: the daily re-pull, the backfill, a run's refresh of stale days)
it hands the old and the new totals of those days to `compare_days`, in memory; only when a
day's cost, conversions or conversion value moved by more than the threshold
(`StatsSettings.moved_percent`, PPC_ROBOT_STATS_MOVED_PERCENT: 5 %) does `note_moved_numbers`
look up the finished runs that covered that day, mark them moved and raise one suggestion per
job and account ("numbers moved", with "run again"). A later run of the job that delivers those
days again resolves it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import (
    ClientAccount,
    Job,
    JobRun,
    Notification,
    RunCoverage,
    RunStatus,
    utcnow,
)
from ppc_robot.lib.notifications import emit, notification_type

logger = logging.getLogger(__name__)

KIND = "numbers_moved"
# The store's columns compared, and how the message names them.
WATCHED = {"cost_micros": N_("cost"), "conversions": N_("conversions"),
           "conversion_value_micros": N_("conversion value")}
MONEY = ("cost_micros", "conversion_value_micros")
DELIVERED = (RunStatus.SUCCEEDED, RunStatus.PARTIAL)


@dataclass(frozen=True)
class Moved:
    """One metric of one day that moved: values as stored (micros for money)."""

    day: date
    column: str
    before: Decimal
    after: Decimal

    @property
    def change(self) -> Decimal:
        """How far it moved, as a fraction of the old value (1 when it was zero)."""
        return abs(self.after - self.before) / self.before if self.before else Decimal(1)

    def shown(self, value: Decimal, currency: str) -> str:
        if self.column in MONEY:
            return f"{(value / 1_000_000).quantize(Decimal('0.01')):,} {currency}"
        return f"{value.normalize():,f}"


def compare_days(old: Mapping[date, Sequence[Any]], new: Mapping[date, Sequence[Any]],
                 percent: Decimal) -> list[Moved]:
    """The (day, metric) pairs of days stored before whose value moved by more than `percent`;
    each mapping gives a day's values in the order of WATCHED."""
    moved = []
    limit = percent / 100
    for day, before_values in old.items():
        after_values = new.get(day)
        if after_values is None:
            continue
        for column, before, after in zip(WATCHED, before_values, after_values, strict=True):
            before, after = Decimal(before), Decimal(after)
            if before == after:
                continue
            entry = Moved(day, column, before, after)
            if entry.change > limit:
                moved.append(entry)
    return moved


def note_moved_numbers(session: Session, client_account_id: int, currency: str,
                       moved: Sequence[Moved], now: datetime) -> int:
    """Mark the delivered runs that covered a moved day and raise one suggestion per job and
    account; flushes. Returns how many jobs were told.

    A job whose run under way covers the day (its coverage is recorded when it starts) is not
    told about that day: the run delivers the new numbers.
    """
    if not moved:
        return 0
    first, last = min(m.day for m in moved), max(m.day for m in moved)
    rows = session.execute(
        select(RunCoverage.run_id, RunCoverage.job_id, RunCoverage.first_day,
               RunCoverage.last_day, JobRun.status, Job.user_id, Job.name, ClientAccount.name)
        .join(JobRun, JobRun.id == RunCoverage.run_id)
        .join(Job, Job.id == RunCoverage.job_id)
        .join(ClientAccount, ClientAccount.id == RunCoverage.client_account_id)
        .where(RunCoverage.client_account_id == client_account_id,
               RunCoverage.first_day <= last, RunCoverage.last_day >= first,
               JobRun.status.in_((*DELIVERED, RunStatus.RUNNING)))).all()
    jobs: dict[int, tuple[int, str, str, list[Moved]]] = {}
    delivering: dict[int, list[tuple[date, date]]] = {}
    marked = []
    for run_id, job_id, first_day, last_day, status, user_id, job_name, account in rows:
        if status == RunStatus.RUNNING:
            delivering.setdefault(job_id, []).append((first_day, last_day))
            continue
        covered = [m for m in moved if first_day <= m.day <= last_day]
        if not covered:
            continue
        marked.append(run_id)
        entry = jobs.setdefault(job_id, (user_id, job_name, account, []))
        entry[3].extend(m for m in covered if m not in entry[3])
    if marked:
        session.execute(update(RunCoverage).where(
            RunCoverage.client_account_id == client_account_id,
            RunCoverage.run_id.in_(marked), RunCoverage.moved_at.is_(None)).values(moved_at=now))
    told = 0
    for job_id, (user_id, job_name, account, covered) in jobs.items():
        spans = delivering.get(job_id, [])
        covered = [m for m in covered if not any(a <= m.day <= b for a, b in spans)]
        if covered:
            _tell(session, user_id, job_id, job_name, client_account_id, account, currency,
                  covered, now)
            told += 1
    logger.info("numbers of account %s moved on %s day(s): %s job(s) told", client_account_id,
                len({m.day for m in moved}), told)
    session.flush()
    return told


def _tell(session: Session, user_id: int, job_id: int, job_name: str, client_account_id: int,
          account: str, currency: str, covered: list[Moved], now: datetime) -> None:
    """Raise (or count again) the job's suggestion; a day already in its open suggestion keeps
    the value the job delivered, however often it moved since."""
    kind = notification_type(KIND)
    previous = session.scalar(select(Notification.details).where(
        Notification.user_id == user_id, Notification.job_id == job_id,
        Notification.client_account_id == client_account_id,
        Notification.category == kind.category, Notification.code == kind.code,
        Notification.resolved_at.is_(None))) or []
    rows = {(row["Day"], row["Metric"]): dict(row) for row in previous}
    for m in covered:
        row = {"Day": m.day.isoformat(), "Metric": WATCHED[m.column],
               "Delivered": m.shown(m.before, currency), "Now": m.shown(m.after, currency)}
        kept = rows.get((row["Day"], row["Metric"]))
        rows[(row["Day"], row["Metric"])] = row | ({"Delivered": kept["Delivered"]} if kept else {})
    details = [rows[key] for key in sorted(rows)]
    worst = max(covered, key=lambda m: m.change)
    shown = rows[(worst.day.isoformat(), WATCHED[worst.column])]
    emit(session, user_id, kind, job_id=job_id, client_account_id=client_account_id, now=now,
         details=details, params={"job": job_name, "account": account,
                                  "day": worst.day.isoformat(), "metric": WATCHED[worst.column],
                                  "before": shown["Delivered"], "after": shown["Now"]})


def record_coverage(session: Session, run_id: int, job_id: int, user_id: int,
                    covered: Iterable[tuple[int, date, date]], now: datetime, *,
                    delivered: bool = True) -> None:
    """Record which accounts and days a run delivers (again on a retried attempt); flushes.

    Recorded when the run starts (`delivered=False`), so a re-pull during the run does not
    tell its job about days the run is about to deliver, and again when it delivered, which
    resolves the job's "numbers moved" suggestions whose days it delivered again.
    """
    covered = list(covered)
    if not covered:
        return
    ids = [account_id for account_id, _first, _last in covered]
    session.execute(delete(RunCoverage).where(RunCoverage.run_id == run_id))
    session.add_all([RunCoverage(run_id=run_id, job_id=job_id, client_account_id=account_id,
                                 first_day=first, last_day=last)
                     for account_id, first, last in covered])
    if not delivered:
        session.flush()
        return
    kind = notification_type(KIND)
    spans = {account_id: (first, last) for account_id, first, last in covered}
    open_ones = session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.job_id == job_id,
        Notification.category == kind.category, Notification.code == kind.code,
        Notification.client_account_id.in_(ids), Notification.resolved_at.is_(None))).all()
    for notification in open_ones:
        first, last = spans[notification.client_account_id or 0]
        days = {row.get("Day") for row in notification.details or []}
        if all(first.isoformat() <= day <= last.isoformat() for day in days if day):
            notification.resolved_at = now  # this run delivers every day that moved
    session.flush()


def cover_period(run: Any, account_ids: Sequence[int], first: date, last: date, *,
                 delivered: bool) -> None:
    """`record_coverage` of a report run (a `ReportRun`) over one period for its accounts, in
    a step of its own."""
    context = run.context
    with context.session_factory() as session:
        record_coverage(session, context.run_id, context.job_id, context.user_id,
                        [(account_id, first, last) for account_id in account_ids],
                        utcnow(), delivered=delivered)
        session.commit()


def moved_runs(session: Session, run_ids: Sequence[int]) -> set[int]:
    """Which of these runs delivered numbers that moved afterwards (one query)."""
    if not run_ids:
        return set()
    return set(session.scalars(select(RunCoverage.run_id).where(
        RunCoverage.run_id.in_(list(run_ids)), RunCoverage.moved_at.is_not(None)).distinct()))
