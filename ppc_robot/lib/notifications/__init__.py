"""Raising and resolving notifications. Nothing here commits.

The interface queries live in `inbox`, the channel settings in `channels`, and delivery through
e-mail and Slack (which commits its own steps, like the runner) in `delivery`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ppc_robot.lib.models import Notification, NotificationSnooze, Platform, utcnow
from ppc_robot.lib.notifications.catalogue import (
    BY_KEY,
    BY_NAME,
    CATEGORY_NAMES,
    TYPES,
    NotificationType,
    notification_type,
)
from ppc_robot.lib.notifications.delivery import plan_deliveries

__all__ = [
    "BY_KEY",
    "BY_NAME",
    "CATEGORY_NAMES",
    "TYPES",
    "NotificationType",
    "dedup_key",
    "emit",
    "notification_type",
    "resolve",
]

logger = logging.getLogger(__name__)


def dedup_key(
    kind: NotificationType,
    *,
    service_account_id: int | None = None,
    client_account_id: int | None = None,
    job_id: int | None = None,
    entity_id: str | None = None,
) -> str:
    """The same problem in the same place gets the same key."""
    parts = [kind.category, kind.code, service_account_id, client_account_id, job_id, entity_id]
    return ":".join("" if p is None else str(p) for p in parts)


def _is_snoozed(
    session: Session, user_id: int, kind: NotificationType, client_account_id: int | None,
    job_id: int | None, now: datetime,
) -> bool:
    stmt = select(NotificationSnooze.id).where(
        NotificationSnooze.user_id == user_id,
        NotificationSnooze.category == kind.category,
        NotificationSnooze.code == kind.code,
        NotificationSnooze.until > now,
    )
    targets = []
    if client_account_id is not None:
        targets.append(NotificationSnooze.client_account_id == client_account_id)
    if job_id is not None:
        targets.append(NotificationSnooze.job_id == job_id)
    if not targets:
        return False
    return session.scalar(stmt.where(or_(*targets)).limit(1)) is not None


def emit(
    session: Session,
    user_id: int,
    kind: NotificationType | str,
    *,
    params: dict[str, Any] | None = None,
    service_account_id: int | None = None,
    client_account_id: int | None = None,
    job_id: int | None = None,
    run_id: int | None = None,
    platform: Platform | None = None,
    entity_id: str | None = None,
    details: list[dict[str, Any]] | None = None,
    score: int | None = None,
    now: datetime | None = None,
) -> Notification | None:
    """Raise a notification, or count another occurrence of the same open one.

    Returns None when the user snoozed this type for the account or job.
    """
    kind = notification_type(kind) if isinstance(kind, str) else kind
    now = now or utcnow()
    if _is_snoozed(session, user_id, kind, client_account_id, job_id, now):
        return None
    key = dedup_key(kind, service_account_id=service_account_id,
                    client_account_id=client_account_id, job_id=job_id, entity_id=entity_id)
    open_one = select(Notification).where(
        Notification.user_id == user_id, Notification.dedup_key == key,
        Notification.resolved_at.is_(None),
    )
    existing = session.scalar(open_one)
    if existing is None:
        notification = Notification(
            user_id=user_id, created_at=now, last_seen_at=now, service_account_id=service_account_id,
            client_account_id=client_account_id, job_id=job_id, run_id=run_id,
            level=kind.level, platform=platform, category=kind.category, code=kind.code,
            score=kind.score if score is None else score, message_template=kind.template,
            message_params=dict(params or {}), details=details, entity_id=entity_id, dedup_key=key,
        )
        try:
            with session.begin_nested():
                session.add(notification)
        except IntegrityError:
            # Another process raised the same problem a moment ago: count it there instead.
            existing = session.scalar(open_one)
        else:
            logger.info("notification %s (%s) raised for user %s", notification.id, kind.name, user_id)
            plan_deliveries(session, notification, now=now)
            return notification
    assert existing is not None
    existing.occurrences += 1
    existing.last_seen_at = now
    existing.message_params = dict(params or {})
    existing.run_id = run_id if run_id is not None else existing.run_id
    if details is not None:
        existing.details = details
    session.flush()
    return existing


def resolve(
    session: Session,
    user_id: int,
    kind: NotificationType | str,
    *,
    service_account_id: int | None = None,
    client_account_id: int | None = None,
    job_id: int | None = None,
    entity_id: str | None = None,
    now: datetime | None = None,
) -> int:
    """Mark the open notification of this problem resolved (it went away); returns how many."""
    kind = notification_type(kind) if isinstance(kind, str) else kind
    key = dedup_key(kind, service_account_id=service_account_id,
                    client_account_id=client_account_id, job_id=job_id, entity_id=entity_id)
    open_ones = session.scalars(
        select(Notification).where(
            Notification.user_id == user_id, Notification.dedup_key == key,
            Notification.resolved_at.is_(None),
        )
    ).all()
    for notification in open_ones:
        notification.resolved_at = now or utcnow()
    session.flush()
    return len(open_ones)
