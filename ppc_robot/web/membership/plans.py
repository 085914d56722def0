"""Plans, subscriptions and usage. Nothing here commits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ppc_robot.lib.bounds import (
    INTERVAL_MINUTES,
    PLAN_LIMIT,
    Bound,
    OutOfRangeError,
    check_number,
)
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.limits import client_account_count, job_count
from ppc_robot.lib.models import ClientAccount, Job, User, utcnow
from ppc_robot.lib.names import names_checked, same_name
from ppc_robot.web.models import Invite, Plan, Subscription, SubscriptionStatus

logger = logging.getLogger(__name__)

DEFAULT_PLAN = {
    "name": "Starter",
    "max_jobs": 50,
    "max_client_accounts": 20,
    "min_schedule_interval_minutes": 60,
    "allows_slack": True,
    "max_invites": 0,
}


PLAN_REQUIRED = ("min_schedule_interval_minutes", "max_invites")  # the rest: None is unlimited
PLAN_BOUNDS: dict[str, Bound] = {
    "max_jobs": PLAN_LIMIT, "max_client_accounts": PLAN_LIMIT, "max_invites": PLAN_LIMIT,
    "min_schedule_interval_minutes": INTERVAL_MINUTES,
}


class PlanError(PpcRobotError):
    """A plan cannot be saved as asked; the message is for the user."""


def all_plans(session: Session) -> Sequence[Plan]:
    return session.scalars(select(Plan).order_by(Plan.name)).all()


def default_plan(session: Session) -> Plan:
    """The plan new users start on; created with modest limits when none is marked default."""
    plan = session.scalar(select(Plan).where(Plan.is_default.is_(True)).order_by(Plan.id))
    if plan is None:
        plan = session.scalar(select(Plan).where(same_name(Plan.name, DEFAULT_PLAN["name"])))
        if plan is None:
            plan = Plan(**DEFAULT_PLAN)
            session.add(plan)
        plan.is_default = True
        session.flush()
    return plan


def save_plan(session: Session, plan: Plan | None, **values: object) -> Plan:
    """Create (plan None) or update a plan; one plan at most is the default.

    Raises PlanError when another plan has that name in any case, OutOfRangeError for a limit
    outside its bounds (nothing is changed then).
    """
    for field, bound in PLAN_BOUNDS.items():
        if field in PLAN_REQUIRED and field in values and values[field] is None:
            raise OutOfRangeError(bound.message, field=field)
        check_number(field, values.get(field), bound)  # type: ignore[arg-type]
    name = str(values.get("name", plan.name if plan else "")).strip()
    values = {**values, "name": name}
    taken = PlanError(f"A plan called “{name}” already exists.")
    clash = select(Plan.id).where(same_name(Plan.name, name))
    if plan is not None:
        clash = clash.where(Plan.id != plan.id)
    if session.scalar(clash) is not None:
        raise taken
    plan = plan or Plan()
    with names_checked(session, taken):
        for field, value in values.items():
            setattr(plan, field, value)
        if plan.is_default:
            for other in session.scalars(select(Plan).where(Plan.is_default.is_(True))):
                if other is not plan:
                    other.is_default = False
        session.add(plan)
    return plan


def subscription_of(session: Session, user_id: int) -> Subscription | None:
    stmt = (select(Subscription).where(Subscription.user_id == user_id)
            .options(selectinload(Subscription.plan)))
    return session.scalar(stmt)


def start_trial(session: Session, user: User, *, days: int, plan: Plan | None = None,
                now: datetime | None = None) -> Subscription:
    """A trial subscription on `plan` (the default plan when None) for `days` days."""
    now = now or utcnow()
    subscription = Subscription(
        user_id=user.id,
        plan_id=(plan or default_plan(session)).id,
        status=SubscriptionStatus.TRIALING,
        period_start=now,
        period_end=now + timedelta(days=days),
    )
    session.add(subscription)
    session.flush()
    return subscription


def assign_plan(
    session: Session,
    user: User,
    plan: Plan,
    *,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    period_end: datetime | None = None,
) -> Subscription:
    """Put the user on `plan` (an admin's decision: there is no payment processor)."""
    subscription = subscription_of(session, user.id)
    if subscription is None:
        subscription = Subscription(user_id=user.id, plan_id=plan.id)
        session.add(subscription)
    subscription.plan_id = plan.id
    subscription.status = status
    subscription.period_start = utcnow()
    subscription.period_end = period_end
    session.flush()
    session.refresh(subscription)
    logger.info("user %s put on plan %s (%s)", user.id, plan.id, status)
    return subscription


def all_subscriptions(session: Session) -> Sequence[Subscription]:
    stmt = (select(Subscription)
            .options(selectinload(Subscription.plan), selectinload(Subscription.user))
            .order_by(Subscription.period_end.is_(None), Subscription.period_end))
    return session.scalars(stmt).all()


@dataclass(frozen=True)
class UsageLine:
    label: str
    used: int | None
    limit: int | str | None

    @property
    def is_over(self) -> bool:
        return isinstance(self.limit, int) and self.used is not None and self.used > self.limit


def invite_count(session: Session, user_id: int) -> int:
    stmt = select(func.count(Invite.id)).where(
        Invite.invited_by_id == user_id, Invite.revoked_at.is_(None)
    )
    return session.scalar(stmt) or 0


def usage_for(session: Session, user: User) -> tuple[Subscription | None, list[UsageLine]]:
    """Each limit of the user's plan beside how much of it he uses."""
    subscription = subscription_of(session, user.id)
    plan = subscription.plan if subscription else None
    lines = [
        UsageLine("Jobs", job_count(session, user.id), plan.max_jobs if plan else None),
        UsageLine("Linked client accounts", client_account_count(session, user.id),
                  plan.max_client_accounts if plan else None),
        UsageLine("Invites sent", invite_count(session, user.id),
                  plan.max_invites if plan else None),
        UsageLine("Shortest schedule interval", None,
                  f"{plan.min_schedule_interval_minutes} minutes" if plan else None),
        UsageLine("Slack notifications", None,
                  ("allowed" if plan.allows_slack else "not included") if plan else None),
    ]
    return subscription, lines


def users_over_limits(session: Session, plan: Plan) -> list[str]:
    """Sentences naming each user on `plan` who uses more than it now allows."""
    problems = []
    if plan.max_jobs is not None:
        jobs = (select(User.email, func.count(Job.id))
                .join(Subscription, Subscription.user_id == User.id)
                .join(Job, Job.user_id == User.id)
                .where(Subscription.plan_id == plan.id)
                .group_by(User.email)
                .having(func.count(Job.id) > plan.max_jobs))
        for email, count in session.execute(jobs):
            problems.append(gettext("%(email)s has %(count)s jobs (limit %(limit)s).",
                                    email=email, count=count, limit=plan.max_jobs))
    if plan.max_client_accounts is not None:
        accounts = (select(User.email, func.count(ClientAccount.id))
                    .join(Subscription, Subscription.user_id == User.id)
                    .join(ClientAccount, ClientAccount.user_id == User.id)
                    .where(Subscription.plan_id == plan.id, ClientAccount.removed_at.is_(None))
                    .group_by(User.email)
                    .having(func.count(ClientAccount.id) > plan.max_client_accounts))
        for email, count in session.execute(accounts):
            problems.append(gettext(
                "%(email)s has %(count)s linked client accounts (limit %(limit)s).",
                email=email, count=count, limit=plan.max_client_accounts))
    return sorted(problems)
