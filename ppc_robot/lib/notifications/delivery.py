"""Delivering notifications through e-mail and Slack: at most once per channel, with retries.

Runs in the worker (or `flask deliver-notifications`), never in a web request. Like the runner,
it opens its own sessions and commits its own steps: a delivery is claimed in one transaction
(its attempt counted and a claim time set), sent, and recorded in the next, so two workers never
send the same delivery and a crash between sending and recording resends at most once after the
claim expires (the stable Message-ID lets mail clients drop that copy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, not_, or_, select, update
from sqlalchemy.orm import Session

from ppc_robot.lib import outbox
from ppc_robot.lib.credentials import Vault, parse_keys
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.limits import slack_allowed
from ppc_robot.lib.mail import MailError, MailSettings, send_mail
from ppc_robot.lib.models import (
    Channel,
    DeliveryStatus,
    EmailMode,
    Notification,
    NotificationChannelSetting,
    NotificationDelivery,
    User,
    utcnow,
)
from ppc_robot.lib.notifications.channels import (
    DEFAULT_SLACK_HOSTS,
    ChannelSettingsError,
    channel_setting,
    check_slack_webhook_url,
    parse_slack_hosts,
    wants,
)
from ppc_robot.lib.notifications.messages import (
    TEMPLATES,
    channel_test_mail,
    describe,
    digest_mail,
    immediate_mail,
    slack_channel_test_payload,
    slack_payload,
)
from ppc_robot.lib.notifications.slack import SlackError, SlackSettings, post_message

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]


class DeliveryError(PpcRobotError):
    """A test message could not be sent; the message says why and what to do."""


@dataclass(frozen=True)
class DeliveryConfig:
    """Everything delivery needs from the server's configuration."""

    mail: MailSettings
    vault: Vault
    base_url: str
    slack: SlackSettings = field(default_factory=SlackSettings)
    slack_hosts: tuple[str, ...] = DEFAULT_SLACK_HOSTS
    max_attempts: int = 5
    backoff_seconds: int = 60
    backoff_cap_seconds: int = 3600
    claim_seconds: int = 300
    message_id_domain: str = "ppc-robot.local"
    templates: Path = TEMPLATES

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: Path) -> DeliveryConfig:
        """From the app's config keys (NOTIFICATION_*, SLACK_WEBHOOK_BASE_URL, SMTP_* …)."""
        return cls(
            mail=MailSettings.from_config(config, instance_path),
            vault=Vault(parse_keys(str(config["PPC_ROBOT_CREDENTIALS_KEY"]))),
            base_url=str(config.get("PPC_ROBOT_BASE_URL") or "http://127.0.0.1:5000"),
            slack=SlackSettings(
                base_url=config.get("SLACK_WEBHOOK_BASE_URL") or None,
                timeout=float(config.get("SLACK_TIMEOUT") or 10),
            ),
            slack_hosts=parse_slack_hosts(config.get("SLACK_WEBHOOK_HOSTS")),
            max_attempts=int(config.get("NOTIFICATION_MAX_ATTEMPTS") or 5),
            backoff_seconds=int(config.get("NOTIFICATION_BACKOFF_SECONDS") or 60),
            backoff_cap_seconds=int(config.get("NOTIFICATION_BACKOFF_CAP_SECONDS") or 3600),
            message_id_domain=str(config.get("MAIL_MESSAGE_ID_DOMAIN") or "ppc-robot.local"),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed try: doubling, capped."""
        seconds = self.backoff_seconds * 2 ** max(0, attempts - 1)
        return timedelta(seconds=min(seconds, self.backoff_cap_seconds))


@dataclass
class DeliveryReport:
    """What one run of the delivery did."""

    sent: int = 0
    retrying: int = 0
    given_up: int = 0
    skipped: int = 0
    digests: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(self.sent + other.sent, self.retrying + other.retrying,
                              self.given_up + other.given_up, self.skipped + other.skipped,
                              self.digests + other.digests)


def plan_deliveries(
    session: Session, notification: Notification, *, now: datetime | None = None
) -> list[NotificationDelivery]:
    """One pending delivery for each external channel that wants this new notification."""
    user = session.get(User, notification.user_id)
    settings = session.scalars(
        select(NotificationChannelSetting).where(
            NotificationChannelSetting.user_id == notification.user_id,
            NotificationChannelSetting.is_enabled.is_(True),
        )
    ).all()
    planned = []
    # A channel turned on under an earlier plan stays on, but sends only what the plan includes.
    if any(s.channel == Channel.SLACK for s in settings) and not slack_allowed(
            session, notification.user_id):
        settings = [s for s in settings if s.channel != Channel.SLACK]
    for setting in settings:
        if user is not None and wants(setting, user, notification):
            delivery = NotificationDelivery(
                notification_id=notification.id, channel=setting.channel,
                status=DeliveryStatus.PENDING, next_attempt_at=now or utcnow(),
            )
            session.add(delivery)
            planned.append(delivery)
    session.flush()
    return planned


def message_id(config: DeliveryConfig, kind: str) -> str:
    """A Message-ID that stays the same for every attempt of the same mail."""
    return f"<{kind}@{config.message_id_domain}>"


def _digest_waits(setting: NotificationChannelSetting) -> Any:
    """SQL: this delivery's user collects e-mail into the daily digest."""
    return and_(
        NotificationDelivery.channel == Channel.EMAIL,
        setting.is_enabled.is_(True),
        setting.email_mode == EmailMode.DIGEST,
    )


def deliver_due(
    session_factory: SessionFactory, config: DeliveryConfig, *, now: datetime | None = None,
    limit: int = 1000,
) -> DeliveryReport:
    """Send every due delivery except e-mail waiting for a digest. Commits its own steps."""
    now = now or utcnow()
    report = DeliveryReport()
    setting = NotificationChannelSetting
    with session_factory() as session:
        due = session.execute(
            select(NotificationDelivery.id, NotificationDelivery.attempts)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .outerjoin(setting, and_(setting.user_id == Notification.user_id,
                                     setting.channel == NotificationDelivery.channel))
            .where(
                NotificationDelivery.status == DeliveryStatus.PENDING,
                NotificationDelivery.next_attempt_at <= now,
                not_(_digest_waits(setting)),
            )
            .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
            .limit(limit)
        ).all()
    for delivery_id, attempts in due:
        report += _deliver_one(session_factory, config, delivery_id, attempts, now)
    return report


def _deliver_one(session_factory: SessionFactory, config: DeliveryConfig, delivery_id: int,
                 attempts: int, now: datetime) -> DeliveryReport:
    with session_factory() as session:
        if not outbox.claim(session, NotificationDelivery, delivery_id, attempts, now,
                            timedelta(seconds=config.claim_seconds)):
            return DeliveryReport()
        delivery = session.get(NotificationDelivery, delivery_id)
        notification = session.get(Notification, delivery.notification_id)
        user = session.get(User, notification.user_id)
        setting = channel_setting(session, user.id, delivery.channel)
        unverified = delivery.channel == Channel.EMAIL and user.email_verified_at is None
        if setting.id is None or not setting.is_enabled or unverified:
            session.commit()
            outbox.begin_write(session)
            delivery.status = DeliveryStatus.SKIPPED
            delivery.last_error = (
                N_("The e-mail address is no longer verified.") if unverified and setting.is_enabled
                else N_("The channel was turned off before the notification was sent.")
            )
            delivery.next_attempt_at = None
            session.commit()
            return DeliveryReport(skipped=1)
        error = outbox.prepare_then_send(
            session, lambda: _prepare(session, config, delivery, notification, user, setting),
            (MailError, SlackError, ValueError), f"delivery {delivery_id}")
        outbox.begin_write(session)
        if error is None:
            outbox.record_sent(delivery, now)
            setting.consecutive_failures = 0
            outcome = DeliveryReport(sent=1)
            logger.info("notification %s delivered by %s (delivery %s, try %s)",
                        notification.id, delivery.channel, delivery.id, delivery.attempts)
        else:
            # A ValueError is an address the mail library refuses: retrying cannot help.
            outcome = _record_failure(config, delivery, setting, str(error),
                                      temporary=getattr(error, "temporary", False),
                                      retry_after=getattr(error, "retry_after", None), now=now)
        session.commit()
        return outcome


def _prepare(session: Session, config: DeliveryConfig, delivery: NotificationDelivery,
             notification: Notification, user: User, setting: NotificationChannelSetting
             ) -> Callable[[], object]:
    """The message ready to go, as a call that sends it (made outside any transaction)."""
    [item] = describe(session, [notification], config.base_url)
    if delivery.channel == Channel.EMAIL:
        mail = immediate_mail(user, item, config.base_url, templates=config.templates,
                              message_id=message_id(config, f"notification-{notification.id}.email"))
        return lambda: send_mail(config.mail, mail)
    if delivery.channel == Channel.SLACK:
        url, payload = _webhook_url(config, setting), slack_payload(item)
        return lambda: post_message(url, payload, config.slack)
    raise ValueError(f"channel {delivery.channel} is not delivered by the worker")


def _webhook_url(config: DeliveryConfig, setting: NotificationChannelSetting) -> str:
    """The stored webhook URL, checked again against the allowed hosts before every post."""
    if not setting.target_encrypted:
        raise SlackError(N_("No Slack webhook URL is stored."), temporary=False)
    try:
        return check_slack_webhook_url(config.vault.decrypt(setting.target_encrypted), config.slack_hosts)
    except ChannelSettingsError as exc:
        raise SlackError(N_("The stored webhook URL is no longer allowed; paste a new one."),
                         temporary=False) from exc


def _record_failure(
    config: DeliveryConfig, delivery: NotificationDelivery, setting: NotificationChannelSetting,
    reason: str, *, temporary: bool, now: datetime, retry_after: int | None = None,
    counts_for_channel: bool = True,
) -> DeliveryReport:
    if counts_for_channel:  # a digest is one message however many notifications it carries
        # In SQL, as another worker may be counting a failure of the same channel right now.
        setting.consecutive_failures = NotificationChannelSetting.consecutive_failures + 1
        setting.last_failure_at = now
        setting.last_error = reason
    wait = timedelta(seconds=retry_after) if retry_after else config.backoff(delivery.attempts)
    given_up = outbox.record_failure(delivery, reason, temporary=temporary,
                                     max_attempts=config.max_attempts, wait=wait, now=now,
                                     what=f"delivery {delivery.id}")
    return DeliveryReport(given_up=1) if given_up else DeliveryReport(retrying=1)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def digest_day(user: User, setting: NotificationChannelSetting, now: datetime) -> date | None:
    """The user's local day whose digest is due at `now`, or None before his chosen hour."""
    local = now.astimezone(_zone(user.time_zone))
    return local.date() if local.hour >= setting.digest_hour else None


def send_digests(
    session_factory: SessionFactory, config: DeliveryConfig, *, now: datetime | None = None
) -> DeliveryReport:
    """One digest mail per user per local day, at or after his hour. Commits its own steps."""
    now = now or utcnow()
    report = DeliveryReport()
    with session_factory() as session:
        candidates = session.scalars(
            select(NotificationChannelSetting.id).where(
                NotificationChannelSetting.channel == Channel.EMAIL,
                NotificationChannelSetting.is_enabled.is_(True),
                NotificationChannelSetting.email_mode == EmailMode.DIGEST,
            ).order_by(NotificationChannelSetting.id)
        ).all()
    for setting_id in candidates:
        report += _digest_one(session_factory, config, setting_id, now)
    return report


def _pending_email(user_id: int) -> Any:
    return (
        select(NotificationDelivery)
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .where(
            Notification.user_id == user_id,
            NotificationDelivery.channel == Channel.EMAIL,
            NotificationDelivery.status == DeliveryStatus.PENDING,
        )
    )


def _digest_one(session_factory: SessionFactory, config: DeliveryConfig, setting_id: int,
                now: datetime) -> DeliveryReport:
    with session_factory() as session:
        outbox.begin_write(session)
        setting = session.get(NotificationChannelSetting, setting_id)
        user = session.get(User, setting.user_id)
        day = digest_day(user, setting, now)
        if day is None or setting.last_digest_on == day.isoformat():
            session.rollback()
            return DeliveryReport()
        pending = session.scalars(_pending_email(user.id)).all()
        if user.email_verified_at is None:
            for delivery in pending:
                delivery.status = DeliveryStatus.SKIPPED
                delivery.next_attempt_at = None
                delivery.last_error = N_("The e-mail address is no longer verified.")
            session.commit()
            return DeliveryReport(skipped=len(pending))
        if any(d.next_attempt_at and d.next_attempt_at > now for d in pending):
            session.rollback()
            return DeliveryReport()  # the last try failed: wait for its back-off to pass
        previous_day = setting.last_digest_on
        claimed = session.execute(
            update(NotificationChannelSetting)
            .where(NotificationChannelSetting.id == setting_id,
                   or_(NotificationChannelSetting.last_digest_on.is_(None),
                       NotificationChannelSetting.last_digest_on != day.isoformat()))
            .values(last_digest_on=day.isoformat())
            .execution_options(synchronize_session=False)
        )
        ids = [d.id for d in pending]
        if claimed.rowcount != 1:
            session.rollback()
            return DeliveryReport()
        if ids:
            session.execute(
                update(NotificationDelivery)
                .where(NotificationDelivery.id.in_(ids))
                .values(attempts=NotificationDelivery.attempts + 1,
                        next_attempt_at=now + timedelta(seconds=config.claim_seconds))
                .execution_options(synchronize_session=False)
            )
        session.commit()
        if not ids:
            return DeliveryReport()
        session.expire_all()
        deliveries = session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.id.in_(ids))
        ).all()
        notifications = session.scalars(
            select(Notification).where(Notification.id.in_([d.notification_id for d in deliveries]))
        ).all()
        items = describe(session, notifications, config.base_url)
        mail = digest_mail(user, items, day, config.base_url, templates=config.templates,
                           message_id=message_id(config, f"digest-{user.id}-{day.isoformat()}"))
        session.commit()  # no transaction stays open while the SMTP server is waited for
        try:
            send_mail(config.mail, mail)
        except (MailError, ValueError) as exc:
            temporary = isinstance(exc, MailError) and exc.temporary
            outbox.begin_write(session)
            setting.last_digest_on = previous_day
            outcome = DeliveryReport()
            for index, delivery in enumerate(deliveries):
                outcome += _record_failure(config, delivery, setting, str(exc), temporary=temporary,
                                           now=now, counts_for_channel=index == 0)
            session.commit()
            return outcome
        outbox.begin_write(session)
        for delivery in deliveries:
            outbox.record_sent(delivery, now)
        setting.consecutive_failures = 0
        session.commit()
        logger.info("digest of %s for user %s sent with %s notifications", day, user.id, len(ids))
        return DeliveryReport(sent=len(ids), digests=1)


def run_deliveries(
    session_factory: SessionFactory, config: DeliveryConfig, *, now: datetime | None = None
) -> DeliveryReport:
    """Everything due: immediate e-mail and Slack, then the daily digests."""
    now = now or utcnow()
    return deliver_due(session_factory, config, now=now) + send_digests(session_factory, config, now=now)


def send_test_message(session: Session, user: User, channel: Channel, config: DeliveryConfig) -> None:
    """Send a test message through the user's stored channel. Raises DeliveryError."""
    setting = channel_setting(session, user.id, channel)
    if channel == Channel.EMAIL:
        if user.email_verified_at is None:
            raise DeliveryError(N_("Your address %(email)s is not verified yet; nothing was sent."),
                                email=user.email)
        try:
            send_mail(config.mail, channel_test_mail(user, config.base_url, templates=config.templates))
        except MailError as exc:
            raise DeliveryError(N_("The test mail was not sent: %(reason)s."), reason=exc) from exc
    elif channel == Channel.SLACK:
        if not setting.target_encrypted:
            raise DeliveryError(N_("Save a Slack webhook URL first."))
        try:
            post_message(_webhook_url(config, setting), slack_channel_test_payload(config.base_url),
                         config.slack)
        except SlackError as exc:
            raise DeliveryError(N_("The test message was not sent: %(reason)s"), reason=exc) from exc
    else:
        raise ValueError(f"no test message for the {channel} channel")
    logger.info("test message sent to user %s through %s", user.id, channel)
