"""What the admin area reads and records: users, queue health, the audit log. Nothing commits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ppc_robot.lib.models import (
    AuditLogEntry,
    ClientAccount,
    Job,
    JobRun,
    Notification,
    Platform,
    RunStatus,
    ServiceAccount,
    User,
    utcnow,
)
from ppc_robot.lib.models.users import EMAIL_MAX, NAME_MAX
from ppc_robot.lib.notifications import emit, notification_type
from ppc_robot.lib.platforms import PlatformSettingsError
from ppc_robot.lib.runner.lifecycle import is_due
from ppc_robot.lib.users import end_sessions

security_log = logging.getLogger("ppc_robot.security")

logger = logging.getLogger(__name__)

AUDIT_PAGE = 200
WORKER_SEEN_WITHIN = timedelta(hours=24)
SETTINGS_PROBLEM = "platform_settings_invalid"


def record_admin_action(
    session: Session,
    actor: User,
    action: str,
    *,
    target_type: str | None = None,
    target_id: int | None = None,
    details: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditLogEntry:
    """Write one audit log row: who did what to which object, and when."""
    entry = AuditLogEntry(
        actor_id=actor.id,
        actor_email=actor.email,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=dict(details or {}),
        ip_address=ip_address,
    )
    session.add(entry)
    session.flush()
    security_log.info("admin %s: %s %s %s", actor.id, action, target_type, target_id)
    return entry


def audit_entries(session: Session, *, limit: int = AUDIT_PAGE) -> Sequence[AuditLogEntry]:
    """The newest audit log rows, newest first."""
    stmt = select(AuditLogEntry).order_by(AuditLogEntry.created_at.desc(), AuditLogEntry.id.desc())
    return session.scalars(stmt.limit(limit)).all()


def search_users(session: Session, query: str = "", *, limit: int = 200) -> Sequence[User]:
    """Users whose e-mail or name contains `query`, by e-mail."""
    stmt = select(User).order_by(User.email).limit(limit)
    query = query.strip().lower()
    if len(query) > max(EMAIL_MAX, NAME_MAX):
        # Longer than any address or name, it matches nobody; SQLite's LIKE refuses it.
        return []
    if query:
        pattern = f"%{query.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(func.lower(User.email).like(pattern),
                              func.lower(User.name).like(pattern)))
    return session.scalars(stmt).all()


def set_user_active(session: Session, user: User, is_active: bool) -> User:
    """Activate or deactivate a user; deactivating ends his sessions and keeps all his data."""
    user.is_active = is_active
    if not is_active:
        end_sessions(user)
    session.flush()
    return user


@dataclass(frozen=True)
class QueueHealth:
    queued: int
    running: int
    failed_last_24h: int
    partial_last_24h: int
    waiting_for_quota: int  # queued runs whose next attempt waits for a platform's quota window
    oldest_queued_at: datetime | None
    workers_seen: list[str]


def queue_health(session: Session, *, now: datetime | None = None) -> QueueHealth:
    """Counts over robot_job_runs for the admin: the queue, its age, failures and workers."""
    now = now or utcnow()
    rows = session.execute(
        select(JobRun.status, func.count(JobRun.id))
        .where(JobRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))
        .group_by(JobRun.status)
    )
    counts = {status: count for status, count in rows}
    recent = func.coalesce(JobRun.finished_at, JobRun.created_at) >= now - timedelta(hours=24)
    finished = dict(session.execute(
        select(JobRun.status, func.count(JobRun.id))
        .where(JobRun.status.in_([RunStatus.FAILED, RunStatus.PARTIAL]), recent)
        .group_by(JobRun.status)
    ).all())
    waiting = JobRun.next_attempt_at > now
    oldest = session.scalar(
        select(func.min(JobRun.scheduled_at)).where(JobRun.status == RunStatus.QUEUED, is_due(now))
    )
    waiting_for_quota = session.scalar(
        select(func.count(JobRun.id)).where(JobRun.status == RunStatus.QUEUED, waiting))
    workers = session.scalars(
        select(JobRun.worker)
        .where(JobRun.worker.is_not(None),
               func.coalesce(JobRun.heartbeat_at, JobRun.started_at) >= now - WORKER_SEEN_WITHIN)
        .distinct()
        .order_by(JobRun.worker)
    ).all()
    return QueueHealth(
        queued=counts.get(RunStatus.QUEUED, 0),
        running=counts.get(RunStatus.RUNNING, 0),
        failed_last_24h=finished.get(RunStatus.FAILED, 0),
        partial_last_24h=finished.get(RunStatus.PARTIAL, 0),
        waiting_for_quota=waiting_for_quota or 0,
        oldest_queued_at=oldest,
        workers_seen=[w for w in workers if w],
    )


@dataclass(frozen=True)
class UserOverview:
    jobs: Sequence[Job]
    service_accounts: Sequence[ServiceAccount]
    client_accounts: Sequence[ClientAccount]


def user_overview(session: Session, user: User) -> UserOverview:
    """A user's jobs and ad-platform accounts for the admin's user page (three queries)."""
    jobs = session.scalars(select(Job).where(Job.user_id == user.id).order_by(Job.name)).all()
    logins = session.scalars(
        select(ServiceAccount).where(ServiceAccount.user_id == user.id).order_by(ServiceAccount.name)
    ).all()
    accounts = session.scalars(
        select(ClientAccount).where(ClientAccount.user_id == user.id).order_by(ClientAccount.name)
    ).all()
    return UserOverview(jobs, logins, accounts)


def alert_admins(session: Session, platform: Platform, error: PlatformSettingsError, *,
                 now: datetime | None = None) -> int:
    """Tell every active admin that `platform` refused this installation's settings (one open
    notification per admin and setting, counting repeats); returns how many admins."""
    logger.error("%s refused the installation's settings (%s): %s", platform.value,
                 error.setting, error)
    admins = session.scalars(select(User.id).where(User.is_admin.is_(True),
                                                   User.is_active.is_(True))).all()
    params = {"platform": platform.label, "setting": error.setting, "reason": str(error)}
    for admin_id in admins:
        emit(session, admin_id, SETTINGS_PROBLEM, params=params, platform=platform,
             entity_id=f"{platform.value}:{error.setting}", now=now)
    return len(admins)


def resolve_settings_problems(session: Session, platform: Platform, *,
                              now: datetime | None = None) -> int:
    """A call to `platform` succeeded: its settings work, so its open problems are resolved."""
    kind = notification_type(SETTINGS_PROBLEM)
    problems = session.scalars(select(Notification).where(
        Notification.category == kind.category, Notification.code == kind.code,
        Notification.platform == platform, Notification.resolved_at.is_(None))).all()
    for notification in problems:
        notification.resolved_at = now or utcnow()
    session.flush()
    return len(problems)


@dataclass(frozen=True)
class SettingsProblem:
    platform: str
    setting: str
    reason: str
    last_seen_at: datetime
    occurrences: int


def settings_problems(session: Session) -> list[SettingsProblem]:
    """Open platform-settings problems for the admin's health page, newest first, one per
    setting (every admin holds a copy of each)."""
    kind = notification_type(SETTINGS_PROBLEM)
    rows = session.scalars(select(Notification).where(
        Notification.category == kind.category, Notification.code == kind.code,
        Notification.resolved_at.is_(None)).order_by(Notification.last_seen_at.desc())).all()
    problems: dict[str | None, SettingsProblem] = {}
    for row in rows:
        params = row.message_params or {}
        problems.setdefault(row.entity_id, SettingsProblem(
            str(params.get("platform", "")), str(params.get("setting", "")),
            str(params.get("reason", "")), row.last_seen_at, row.occurrences))
    return list(problems.values())
