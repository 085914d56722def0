"""The interface channel: the user's notification list, the bell, read state and snoozes."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import (
    ClientAccount,
    Job,
    Notification,
    NotificationLevel,
    NotificationSnooze,
    Platform,
    ServiceAccount,
    User,
    utcnow,
)
from ppc_robot.lib.pagination import PageNumbers

logger = logging.getLogger(__name__)

SNOOZE_MAX = timedelta(days=365)


class SnoozeError(PpcRobotError):
    """A snooze cannot be set as asked; the message is for the user."""


@dataclass(frozen=True)
class NotificationFilters:
    """The list page's filters; None means "any"."""

    level: NotificationLevel | None = None
    category: int | None = None
    platform: Platform | None = None
    service_account_id: int | None = None
    client_account_id: int | None = None
    job_id: int | None = None
    is_read: bool | None = None


@dataclass(frozen=True)
class NotificationRow:
    """A notification with the names the list shows beside it."""

    notification: Notification
    job_name: str | None
    client_account_name: str | None
    service_account_name: str | None


@dataclass(frozen=True)
class Page(PageNumbers):
    items: list[NotificationRow]
    page: int
    per_page: int
    total: int


def _ordered() -> tuple:
    return (Notification.score.desc(), Notification.created_at.desc(), Notification.id.desc())


def _with_names(stmt: Select) -> Select:
    login = aliased(ServiceAccount)
    return (
        stmt.add_columns(Job.name, ClientAccount.name, login.name)
        .outerjoin(Job, Job.id == Notification.job_id)
        .outerjoin(ClientAccount, ClientAccount.id == Notification.client_account_id)
        .outerjoin(login, login.id == Notification.service_account_id)
    )


def _filtered(user_id: int, filters: NotificationFilters) -> Select:
    stmt = select(Notification).where(Notification.owned_by(user_id))
    if filters.level is not None:
        stmt = stmt.where(Notification.level == filters.level)
    if filters.category is not None:
        stmt = stmt.where(Notification.category == filters.category)
    if filters.platform is not None:
        stmt = stmt.where(Notification.platform == filters.platform)
    if filters.service_account_id is not None:
        stmt = stmt.where(Notification.service_account_id == filters.service_account_id)
    if filters.client_account_id is not None:
        stmt = stmt.where(Notification.client_account_id == filters.client_account_id)
    if filters.job_id is not None:
        stmt = stmt.where(Notification.job_id == filters.job_id)
    if filters.is_read is True:
        stmt = stmt.where(Notification.read_at.is_not(None))
    elif filters.is_read is False:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt


def notification_page(
    session: Session, user_id: int, filters: NotificationFilters, *, page: int = 1, per_page: int = 50
) -> Page:
    """One page of the user's notifications, by score then time (two queries)."""
    base = _filtered(user_id, filters)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    rows = session.execute(
        _with_names(base).order_by(*_ordered()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page([NotificationRow(*row) for row in rows], page, per_page, total)


# Drawn by the bell on every page: built once.
_UNREAD = (
    select(func.count()).select_from(Notification)
    .where(Notification.owned_by(bindparam("user_id")), Notification.read_at.is_(None))
)


def unread_count(session: Session, user_id: int) -> int:
    session.flush()
    return session.connection().scalar(_UNREAD, {"user_id": user_id}) or 0


def latest_notifications(session: Session, user_id: int, *, limit: int = 8) -> list[NotificationRow]:
    """The bell's dropdown: unread first, each group by score then time."""
    stmt = _with_names(select(Notification).where(Notification.owned_by(user_id)))
    unread_first = Notification.read_at.is_(None).desc()
    rows = session.execute(stmt.order_by(unread_first, *_ordered()).limit(limit)).all()
    return [NotificationRow(*row) for row in rows]


def notification_row(session: Session, notification: Notification) -> NotificationRow:
    stmt = _with_names(select(Notification).where(Notification.id == notification.id))
    return NotificationRow(*session.execute(stmt).one())


def mark_read(session: Session, notification: Notification, *, now: datetime | None = None) -> Notification:
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        session.flush()
    return notification


def mark_all_read(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.owned_by(user_id), Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return result.rowcount


def snooze_type(
    session: Session,
    notification: Notification,
    *,
    target: str,
    duration: timedelta,
    now: datetime | None = None,
) -> NotificationSnooze:
    """Silence this notification's type for its client account or job for `duration`.

    The notification itself is marked read. Raises SnoozeError when it has no such target.
    """
    now = now or utcnow()
    if not timedelta(0) < duration <= SNOOZE_MAX:
        raise SnoozeError(N_("Snooze for at least a minute and at most a year."))
    if target == "job" and notification.job_id is not None:
        where = {"job_id": notification.job_id}
    elif target == "client_account" and notification.client_account_id is not None:
        where = {"client_account_id": notification.client_account_id}
    else:
        raise SnoozeError(N_("This notification is not about such an account or job."))
    snooze = NotificationSnooze(user_id=notification.user_id, category=notification.category,
                                code=notification.code, until=now + duration, **where)
    session.add(snooze)
    mark_read(session, notification, now=now)
    session.flush()
    logger.info("user %s snoozed %s/%s for %s", notification.user_id, notification.category,
                notification.code, where)
    return snooze


@dataclass(frozen=True)
class SnoozeRow:
    snooze: NotificationSnooze
    job_name: str | None
    client_account_name: str | None


def active_snoozes(session: Session, user_id: int, *, now: datetime | None = None) -> list[SnoozeRow]:
    stmt = (
        select(NotificationSnooze, Job.name, ClientAccount.name)
        .outerjoin(Job, Job.id == NotificationSnooze.job_id)
        .outerjoin(ClientAccount, ClientAccount.id == NotificationSnooze.client_account_id)
        .where(NotificationSnooze.owned_by(user_id), NotificationSnooze.until > (now or utcnow()))
        .order_by(NotificationSnooze.until)
    )
    return [SnoozeRow(*row) for row in session.execute(stmt).all()]


def end_snooze(session: Session, snooze: NotificationSnooze) -> None:
    session.delete(snooze)
    session.flush()


@dataclass(frozen=True)
class FilterChoices:
    service_accounts: Sequence[tuple[int, str]]
    client_accounts: Sequence[tuple[int, str]]
    jobs: Sequence[tuple[int, str]]


def filter_choices(session: Session, user: User) -> FilterChoices:
    """The user's logins, client accounts and jobs for the filter selects (three queries)."""
    def pairs(model: type) -> list[tuple[int, str]]:
        stmt = select(model.id, model.name).where(model.owned_by(user.id)).order_by(model.name)
        return [(row[0], row[1]) for row in session.execute(stmt).all()]

    return FilterChoices(pairs(ServiceAccount), pairs(ClientAccount), pairs(Job))
