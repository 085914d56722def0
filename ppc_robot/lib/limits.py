"""Plan limits and subscription state, as lib sees them. Nothing here commits.

Plans and subscriptions are web tables (web_plans, web_subscriptions); lib must not import
the web package, so it reads them through light table clauses over the same names. A user
without a subscription (an admin made with `create-user`, a self-hosted owner) has no limits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from croniter import croniter
from sqlalchemy import Boolean, Integer, String, column, func, select, table
from sqlalchemy.orm import Session

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import ClientAccount, Job, ScheduleKind, User, UtcDateTime, utcnow

logger = logging.getLogger(__name__)

LAPSED_STATUSES = frozenset({"cancelled"})

_plans = table(
    "web_plans",
    column("id", Integer),
    column("name", String),
    column("max_jobs", Integer),
    column("max_client_accounts", Integer),
    column("min_schedule_interval_minutes", Integer),
    column("allows_slack", Boolean),
    column("max_invites", Integer),
)
_subscriptions = table(
    "web_subscriptions",
    column("user_id", Integer),
    column("plan_id", Integer),
    column("status", String),
    column("period_end", UtcDateTime),
)

# Fixed schedules and their spacing; cron expressions are measured instead.
_KIND_MINUTES = {
    ScheduleKind.HOURLY: 60,
    ScheduleKind.DAILY: 24 * 60,
    ScheduleKind.WEEKLY: 7 * 24 * 60,
    ScheduleKind.MONTHLY: 28 * 24 * 60,
}


class PlanLimitError(PpcRobotError):
    """The user's plan does not allow this; the message names the limit and the plan."""


@dataclass(frozen=True)
class Limits:
    """What a user's plan allows (None: unlimited) and whether his subscription still runs."""

    plan_name: str
    max_jobs: int | None
    max_client_accounts: int | None
    min_schedule_interval_minutes: int
    allows_slack: bool
    max_invites: int
    status: str
    period_end: datetime | None

    def is_lapsed(self, now: datetime | None = None) -> bool:
        """Cancelled, or the paid-for (or trial) period is over."""
        now = now or utcnow()
        return self.status in LAPSED_STATUSES or (
            self.period_end is not None and self.period_end <= now
        )


def limits_for(session: Session, user_id: int) -> Limits | None:
    """The user's plan limits, or None when he has no subscription (no limits)."""
    stmt = (
        select(
            _plans.c.name, _plans.c.max_jobs, _plans.c.max_client_accounts,
            _plans.c.min_schedule_interval_minutes, _plans.c.allows_slack, _plans.c.max_invites,
            _subscriptions.c.status, _subscriptions.c.period_end,
        )
        .select_from(_subscriptions.join(_plans, _plans.c.id == _subscriptions.c.plan_id))
        .where(_subscriptions.c.user_id == user_id)
    )
    row = session.execute(stmt).one_or_none()
    return Limits(*row) if row is not None else None


def job_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count(Job.id)).where(Job.user_id == user_id)) or 0


def client_account_count(session: Session, user_id: int) -> int:
    stmt = select(func.count(ClientAccount.id)).where(
        ClientAccount.user_id == user_id, ClientAccount.removed_at.is_(None)
    )
    return session.scalar(stmt) or 0


def check_job_limit(session: Session, user_id: int, adding: int = 1) -> None:
    """Raise PlanLimitError when `adding` more jobs would pass the plan's maximum."""
    limits = limits_for(session, user_id)
    if limits is None or limits.max_jobs is None:
        return
    if job_count(session, user_id) + adding > limits.max_jobs:
        logger.info("job limit of user %s reached (%s)", user_id, limits.max_jobs)
        raise PlanLimitError(
            N_("Your plan “%(plan)s” allows at most %(count)s jobs "
               "(limit: maximum jobs). Delete a job or ask an administrator for a larger plan."),
            plan=limits.plan_name, count=limits.max_jobs,
        )


def check_client_account_limit(session: Session, user_id: int, adding: int = 1) -> None:
    """Raise PlanLimitError when linking `adding` more client accounts passes the maximum."""
    limits = limits_for(session, user_id)
    if limits is None or limits.max_client_accounts is None:
        return
    if client_account_count(session, user_id) + adding > limits.max_client_accounts:
        raise PlanLimitError(
            N_("Your plan “%(plan)s” allows at most %(count)s "
               "linked client accounts (limit: maximum client accounts). Unlink one or ask an "
               "administrator for a larger plan."),
            plan=limits.plan_name, count=limits.max_client_accounts,
        )


def check_schedule_interval(session: Session, user_id: int, minutes: int | None) -> None:
    """Raise PlanLimitError when a schedule runs more often than every `minutes` allows."""
    limits = limits_for(session, user_id)
    if limits is None or minutes is None or minutes >= limits.min_schedule_interval_minutes:
        return
    raise PlanLimitError(
        N_("Your plan “%(plan)s” runs jobs at most every "
           "%(minutes)s minutes (limit: shortest schedule interval). "
           "Choose a less frequent schedule."),
        plan=limits.plan_name, minutes=limits.min_schedule_interval_minutes,
    )


def slack_allowed(session: Session, user_id: int) -> bool:
    """Whether the user's plan includes Slack notifications."""
    limits = limits_for(session, user_id)
    return limits is None or limits.allows_slack


def check_slack_allowed(session: Session, user_id: int) -> None:
    """Raise PlanLimitError when the plan does not include Slack notifications."""
    limits = limits_for(session, user_id)
    if limits is not None and not limits.allows_slack:
        raise PlanLimitError(
            N_("Your plan “%(plan)s” does not include Slack (limit: Slack allowed)."),
            plan=limits.plan_name,
        )


def schedule_interval_minutes(kind: ScheduleKind, schedule: dict[str, object]) -> int | None:
    """The shortest gap between two runs of a schedule in minutes; None for manual jobs."""
    if kind in _KIND_MINUTES:
        return _KIND_MINUTES[kind]
    expression = schedule.get("cron") or schedule.get("expression")
    if kind != ScheduleKind.CRON or not isinstance(expression, str) or not croniter.is_valid(
        expression
    ):
        return None
    runs = croniter(expression, datetime(2026, 1, 1))
    times = [runs.get_next(datetime) for _ in range(50)]
    return int(min((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)) // 60)


def jobs_paused_for(session: Session, user_id: int, *, now: datetime | None = None) -> bool:
    """Whether the user's jobs are paused: his subscription lapsed or an admin deactivated him.

    Either way his data stays; the jobs run again once he is active on a current plan.
    """
    if not session.scalar(select(User.is_active).where(User.id == user_id)):
        return True
    limits = limits_for(session, user_id)
    return limits is not None and limits.is_lapsed(now)


def paused_user_ids(session: Session, *, now: datetime | None = None) -> set[int]:
    """Users whose jobs the scheduler leaves alone (lapsed subscription or deactivated)."""
    now = now or utcnow()
    lapsed = select(_subscriptions.c.user_id).where(
        _subscriptions.c.status.in_(LAPSED_STATUSES)
        | (_subscriptions.c.period_end.is_not(None) & (_subscriptions.c.period_end <= now))
    )
    inactive = select(User.id).where(User.is_active.is_(False))
    return set(session.scalars(lapsed.union(inactive)))
