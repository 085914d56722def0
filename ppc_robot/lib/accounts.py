"""Service accounts: linking, syncing their client accounts, unlinking, key rotation (the client
accounts as the user lists and tags them are in client_accounts.py).

Nothing here commits. Platform calls happen before any row changes, so a failed link
leaves nothing behind and a failed sync leaves the existing client accounts untouched.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from ppc_robot.lib.admin import alert_admins, resolve_settings_problems
from ppc_robot.lib.credentials import Vault, parse_keys
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.limits import client_account_count
from ppc_robot.lib.limits import limits_for as plan_limits_for
from ppc_robot.lib.models import (
    ClientAccount,
    ClientAccountStatus,
    Job,
    NotificationChannelSetting,
    Platform,
    ServiceAccount,
    ServiceAccountStatus,
    User,
    jobs_client_accounts,
    utcnow,
)
from ppc_robot.lib.models.accounts import ACCOUNT_NAME_MAX
from ppc_robot.lib.notifications import emit, resolve
from ppc_robot.lib.platforms import (
    InvalidCredentialsError,
    PlatformClient,
    PlatformError,
    PlatformSettings,
    PlatformSettingsError,
    QuotaExhaustedError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    ReportRow,
    RevokedCredentialsError,
    make_client,
)
from ppc_robot.lib.platforms.quota import limiter_for, limits_for
from ppc_robot.lib.times import named_local_text, user_zone_name

logger = logging.getLogger(__name__)
security_log = logging.getLogger("ppc_robot.security")
RECOVERY_KINDS = ("credentials_expired", "credentials_revoked", "rate_limit_exhausted")


class AccountError(PpcRobotError):
    """A login cannot be linked, synced or changed as asked; the message is for the user."""


def vault_from_config(keys: str) -> Vault:
    """The vault of the comma-separated `PPC_ROBOT_CREDENTIALS_KEY` setting (newest first).

    Raises AccountError when no key is configured.
    """
    parsed = parse_keys(keys)
    if not parsed:
        raise AccountError("PPC_ROBOT_CREDENTIALS_KEY is not set: stored credentials cannot be "
                           "read.")
    return Vault(parsed)


@dataclass
class SyncResult:
    """What one sync changed, or the reason it could not run."""

    service_account_id: int
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # New on the platform, not linked: the user's plan allows no more client accounts.
    left_out: list[str] = field(default_factory=list)
    limit_note: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        if self.error:
            return self.error
        summary = (f"{len(self.added)} added, {len(self.updated)} updated, "
                   f"{len(self.removed)} removed.")
        if self.left_out:
            summary += f" {len(self.left_out)} left out: {self.limit_note}"
        return summary


def credentials_of(service_account: ServiceAccount, vault: Vault) -> dict[str, Any]:
    """The login's decrypted credentials; raises AccountError when none are stored."""
    if service_account.credentials_encrypted:
        return vault.decrypt_json(service_account.credentials_encrypted)
    if service_account.platform is not Platform.SANDBOX:
        raise AccountError("This login has no stored credentials; link it again.")
    return {}


def store_refreshed_credentials(session: Session, service_account: ServiceAccount, vault: Vault,
                                refreshed: dict[str, Any], *, read: dict[str, Any]) -> bool:
    """Store, encrypted, the credentials a platform refreshed during calls made with `read`
    (a new access token, a rotated refresh token).

    Stored credentials that no longer hold the refresh token those calls started from are
    newer (the login was linked again, or another process stored a rotation): they are kept,
    and False is returned.
    """
    # FOR NO KEY UPDATE on PostgreSQL: quota counters referencing the login are not held up.
    current = session.scalar(
        select(ServiceAccount.credentials_encrypted)
        .where(ServiceAccount.id == service_account.id).with_for_update(key_share=True))
    if current is None or vault.decrypt_json(current).get("refresh_token") != read.get(
            "refresh_token"):
        logger.info("login %s: newer credentials stored meanwhile, refreshed ones dropped",
                    service_account.id)
        return False
    service_account.credentials_encrypted = vault.encrypt_json(refreshed)
    session.flush()
    return True


def client_for(service_account: ServiceAccount, vault: Vault, settings: PlatformSettings,
               *, session: Session | None = None) -> PlatformClient:
    """The platform adapter of a linked login, with its decrypted credentials.

    With `session`, every call first passes the login's quota limiter (shared through the
    database by every process); the runner passes its session too.
    """
    credentials = credentials_of(service_account, vault)
    before_call = None
    limits = limits_for(service_account.platform, settings.quota_overrides)
    if session is not None and limits:
        before_call = limiter_for(session, service_account.id, limits,
                                  platform_label=service_account.platform.label).acquire
    return make_client(service_account.platform, credentials, settings, before_call=before_call)


def link_service_account(
    session: Session,
    user: User,
    platform: Platform,
    credentials: dict[str, Any],
    *,
    vault: Vault,
    settings: PlatformSettings,
    now: datetime | None = None,
) -> tuple[ServiceAccount, SyncResult]:
    """Check the credentials, then store the login and its client accounts.

    Linking a login that exists already re-authorises it. Raises the platform's error
    (a PpcRobotError) when the credentials or the platform refuse; nothing is stored then.
    """
    now = now or utcnow()
    client = make_client(platform, credentials, settings)
    identity = client.check_credentials()
    remote = client.list_accounts()
    stored = client.updated_credentials() or credentials
    service_account = session.scalar(select(ServiceAccount).where(
        ServiceAccount.user_id == user.id, ServiceAccount.platform == platform,
        ServiceAccount.external_id == identity.external_id))
    if service_account is None:
        service_account = ServiceAccount(user_id=user.id, platform=platform,
                                         external_id=identity.external_id, name="")
        session.add(service_account)
    service_account.name = identity.name[:ACCOUNT_NAME_MAX]
    service_account.credentials_encrypted = vault.encrypt_json(stored) if stored else None
    session.flush()
    result = _apply_sync(session, service_account, remote, settings, now)
    security_log.info("user %s linked %s login %s", user.id, platform.value, service_account.id)
    return service_account, result


def sync_service_account(
    session: Session,
    service_account: ServiceAccount,
    *,
    vault: Vault,
    settings: PlatformSettings,
    now: datetime | None = None,
) -> SyncResult:
    """Bring the login's client accounts in line with the platform; never raises a
    platform error: the result (and the login's `last_error`) carries it."""
    now = now or utcnow()
    if service_account.status is ServiceAccountStatus.UNLINKED:
        return SyncResult(service_account.id, error="This login is unlinked; link it again.")
    read: dict[str, Any] = {}
    client: PlatformClient | None = None
    try:
        read = credentials_of(service_account, vault)
        client = client_for(service_account, vault, settings, session=session)
        remote = client.list_accounts()
    except (PlatformError, AccountError) as exc:
        _store_refreshed(session, service_account, vault, client, read)
        record_login_failure(session, service_account, exc, settings, now)
        return SyncResult(service_account.id, error=str(exc))
    _store_refreshed(session, service_account, vault, client, read)
    resolve_settings_problems(session, service_account.platform, now=now)
    return _apply_sync(session, service_account, remote, settings, now)


def sync_due_service_accounts(
    session: Session,
    now: datetime,
    *,
    vault: Vault | None = None,
    settings: PlatformSettings | None = None,
) -> list[SyncResult]:
    """Sync every login whose next sync is due (the worker calls this periodically).

    Without `vault` and `settings` they come from the environment (PPC_ROBOT_CREDENTIALS_KEY,
    PPC_ROBOT_<SETTING>), as the worker runs without the web app. The interval between syncs
    is `settings.sync_interval_hours` (6 by default). Nothing here commits: the worker
    commits after each call, or this whole batch at once.
    """
    settings = settings or PlatformSettings.from_mapping()
    vault = vault or vault_from_config(os.environ.get("PPC_ROBOT_CREDENTIALS_KEY", ""))
    due = session.scalars(
        select(ServiceAccount).where(
            ServiceAccount.status != ServiceAccountStatus.UNLINKED,
            or_(ServiceAccount.next_sync_at.is_(None), ServiceAccount.next_sync_at <= now),
        ).order_by(ServiceAccount.id)
    ).all()
    return [sync_service_account(session, sa, vault=vault, settings=settings, now=now)
            for sa in due]


def fetch_client_account_rows(
    session: Session,
    client_account: ClientAccount,
    date_from: date,
    date_to: date,
    dimensions: Sequence[str],
    *,
    vault: Vault,
    settings: PlatformSettings,
) -> Iterator[ReportRow]:
    """Report rows of one client account through its login, for the runner.

    Every call passes the login's quota limiter. A refusal of the credentials or an
    exhausted quota is recorded on the login (status, last error, notification) and raised
    on; success stamps the login's last successful call and stores rotated credentials.
    """
    login = client_account.service_account
    now = utcnow()
    remote = remote_account_of(client_account)
    read = credentials_of(login, vault)
    client = client_for(login, vault, settings, session=session)
    try:
        yield from client.fetch_report(ReportRequest(remote, date_from, date_to,
                                                     tuple(dimensions)))
    except (InvalidCredentialsError, QuotaExhaustedError, PlatformSettingsError) as exc:
        _store_refreshed(session, login, vault, client, read)
        record_login_failure(session, login, exc, settings, now, is_sync=False)
        raise
    _store_refreshed(session, login, vault, client, read)
    record_login_success(session, login, utcnow())


def remote_account_of(client_account: ClientAccount) -> RemoteAccount:
    """The client account as its adapter needs it, with what the last sync stored to reach it."""
    return RemoteAccount(client_account.external_id, client_account.name,
                         client_account.currency, client_account.time_zone,
                         client_account.status, dict(client_account.platform_extra or {}))


def _store_refreshed(session: Session, service_account: ServiceAccount, vault: Vault,
                     client: PlatformClient | None, read: dict[str, Any]) -> None:
    refreshed = client.updated_credentials() if client is not None else None
    if refreshed:
        store_refreshed_credentials(session, service_account, vault, refreshed, read=read)


def record_login_failure(session: Session, service_account: ServiceAccount, exc: Exception,
                         settings: PlatformSettings, now: datetime, *, is_sync: bool = True) -> None:
    """Mark the login by the platform's refusal and raise its notification (sync or run).

    A refusal of this installation's own settings leaves the login's status alone and goes
    to the admins instead: no re-authorisation can fix it.
    """
    service_account.last_error = str(exc)
    if is_sync:
        service_account.last_sync_at = now
    if isinstance(exc, PlatformSettingsError):
        alert_admins(session, service_account.platform, exc, now=now)
    params = {"account": service_account.name, "reason": str(exc)}
    if isinstance(exc, RevokedCredentialsError):
        service_account.status = ServiceAccountStatus.REVOKED
        emit(session, service_account.user_id, "credentials_revoked", params=params,
             service_account_id=service_account.id, platform=service_account.platform, now=now)
    elif isinstance(exc, InvalidCredentialsError):
        service_account.status = ServiceAccountStatus.EXPIRED
        emit(session, service_account.user_id, "credentials_expired", params=params,
             service_account_id=service_account.id, platform=service_account.platform, now=now)
    elif isinstance(exc, (RateLimitedError, QuotaExhaustedError)):
        service_account.status = ServiceAccountStatus.RATE_LIMITED
    # Expired logins wait for re-authorisation; others try again at the next interval.
    if is_sync:
        service_account.next_sync_at = now + timedelta(hours=settings.sync_interval_hours)
    if isinstance(exc, QuotaExhaustedError):
        service_account.next_sync_at = max(exc.next_attempt_at, now)
        emit(session, service_account.user_id, "rate_limit_exhausted",
             params={"platform": service_account.platform.label, "account": service_account.name,
                     "retry_at": named_local_text(
                         exc.next_attempt_at, user_zone_name(session, service_account.user_id))},
             service_account_id=service_account.id, platform=service_account.platform, now=now)
    session.flush()
    logger.info("sync of login %s failed: %s", service_account.id, type(exc).__name__)


def record_login_success(session: Session, service_account: ServiceAccount, now: datetime) -> None:
    """Stamp a successful call; a login marked rate limited or refused works again."""
    service_account.last_success_at = now
    if service_account.status not in (ServiceAccountStatus.VALID, ServiceAccountStatus.UNLINKED):
        service_account.status = ServiceAccountStatus.VALID
        service_account.last_error = None
        for kind in RECOVERY_KINDS:
            resolve(session, service_account.user_id, kind,
                    service_account_id=service_account.id, now=now)
    session.flush()


def _apply_sync(session: Session, service_account: ServiceAccount, remote: Sequence[RemoteAccount],
                settings: PlatformSettings, now: datetime) -> SyncResult:
    result = SyncResult(service_account.id)
    existing = {a.external_id: a for a in session.scalars(
        select(ClientAccount).where(ClientAccount.service_account_id == service_account.id))}
    limits = plan_limits_for(session, service_account.user_id)
    room = None
    if limits is not None and limits.max_client_accounts is not None:
        # Accounts gone from the platform stop counting in this same sync.
        listed = {account.external_id for account in remote}
        vanishing = sum(1 for row in existing.values()
                        if row.external_id not in listed and row.removed_at is None)
        room = (limits.max_client_accounts + vanishing
                - client_account_count(session, service_account.user_id))
    for account in remote:
        row = existing.pop(account.external_id, None)
        returning = row is not None and row.removed_at is not None
        if (row is None or returning) and room is not None:
            if room <= 0:
                result.left_out.append(account.external_id)
                continue
            room -= 1
        if row is None:
            session.add(ClientAccount(
                user_id=service_account.user_id, service_account_id=service_account.id,
                external_id=account.external_id, name=account.name[:ACCOUNT_NAME_MAX],
                currency=account.currency, time_zone=account.time_zone, status=account.status,
                platform_extra=dict(account.extra)))
            result.added.append(account.external_id)
            continue
        if row.platform_extra != account.extra:  # how to reach it: not a change the user sees
            row.platform_extra = dict(account.extra)
        changes = {"name": account.name[:ACCOUNT_NAME_MAX], "currency": account.currency,
                   "time_zone": account.time_zone, "status": account.status}
        if any(getattr(row, key) != value for key, value in changes.items()):
            for key, value in changes.items():
                setattr(row, key, value)
            row.removed_at = None
            result.updated.append(account.external_id)
    for row in existing.values():
        if row.status is ClientAccountStatus.REMOVED:
            continue
        # Kept, never deleted: jobs and history may still name it.
        row.status = ClientAccountStatus.REMOVED
        row.removed_at = now
        result.removed.append(row.external_id)
        emit(session, service_account.user_id, "client_account_vanished",
             params={"account": row.name, "login": service_account.name},
             service_account_id=service_account.id, client_account_id=row.id,
             platform=service_account.platform, now=now)
    if result.left_out and limits is not None:
        result.limit_note = (
            f"your plan “{limits.plan_name}” allows at most {limits.max_client_accounts} linked "
            "client accounts (limit: maximum client accounts)."
        )
        logger.info("sync of login %s left %s client accounts out (plan limit)",
                    service_account.id, len(result.left_out))
    was_failing = service_account.status is not ServiceAccountStatus.VALID
    service_account.status = ServiceAccountStatus.VALID
    service_account.last_error = None
    service_account.last_success_at = now
    service_account.last_sync_at = now
    service_account.next_sync_at = now + timedelta(hours=settings.sync_interval_hours)
    if was_failing:
        for kind in RECOVERY_KINDS:
            resolve(session, service_account.user_id, kind,
                    service_account_id=service_account.id, now=now)
    session.flush()
    logger.info("login %s synced: %s", service_account.id, result.summary())
    return result


def jobs_fed_by(session: Session, service_account: ServiceAccount) -> Sequence[Job]:
    """Jobs reading this login: at its level, or naming one of its client accounts."""
    uses_account = exists().where(
        jobs_client_accounts.c.job_id == Job.id,
        jobs_client_accounts.c.client_account_id == ClientAccount.id,
        ClientAccount.service_account_id == service_account.id)
    return session.scalars(
        select(Job).where(Job.user_id == service_account.user_id,
                          or_(Job.service_account_id == service_account.id, uses_account))
        .order_by(Job.name)
    ).all()


def unlink_service_account(session: Session, service_account: ServiceAccount, *,
                           remove_client_accounts: bool) -> int:
    """Delete the stored credentials; keep the client accounts as history or remove them.

    Client accounts that jobs still name are never deleted: they are marked removed.
    Returns how many client accounts were deleted.
    """
    service_account.credentials_encrypted = None
    service_account.status = ServiceAccountStatus.UNLINKED
    service_account.next_sync_at = None
    deleted = 0
    if remove_client_accounts:
        in_use = select(jobs_client_accounts.c.client_account_id)
        deleted = session.execute(
            delete(ClientAccount).where(
                ClientAccount.service_account_id == service_account.id,
                ClientAccount.id.not_in(in_use))
        ).rowcount or 0
        for row in session.scalars(select(ClientAccount).where(
                ClientAccount.service_account_id == service_account.id)):
            row.status = ClientAccountStatus.REMOVED
            row.removed_at = row.removed_at or utcnow()
    session.flush()
    security_log.info("user %s unlinked login %s", service_account.user_id, service_account.id)
    return deleted


def service_accounts_of(session: Session, user: User) -> Sequence[ServiceAccount]:
    """The user's logins with their client accounts, by platform and name."""
    return session.scalars(
        select(ServiceAccount).where(ServiceAccount.owned_by(user.id))
        .options(selectinload(ServiceAccount.client_accounts))
        .order_by(ServiceAccount.platform, ServiceAccount.name)
    ).all()


def rotate_credentials_key(session: Session, vault: Vault) -> int:
    """Re-encrypt every stored secret under the vault's first key; returns how many."""
    count = 0
    for service_account in session.scalars(
            select(ServiceAccount).where(ServiceAccount.credentials_encrypted.is_not(None))):
        assert service_account.credentials_encrypted is not None
        service_account.credentials_encrypted = vault.rotate(service_account.credentials_encrypted)
        count += 1
    for channel in session.scalars(select(NotificationChannelSetting).where(
            NotificationChannelSetting.target_encrypted.is_not(None))):
        assert channel.target_encrypted is not None
        channel.target_encrypted = vault.rotate(channel.target_encrypted)
        count += 1
    session.flush()
    return count
