"""A user's e-mail and Slack channel settings, and which notifications each channel wants."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.limits import PlanLimitError, check_slack_allowed
from ppc_robot.lib.models import (
    Channel,
    EmailMode,
    Notification,
    NotificationChannelSetting,
    NotificationLevel,
    User,
)
from ppc_robot.lib.notifications.catalogue import CATEGORY_NAMES

logger = logging.getLogger(__name__)

DEFAULT_SLACK_HOSTS = ("hooks.slack.com",)
SLACK_URL_MAX = 500
# T… workspace id, B… webhook id, then the secret token (Slack's own alphabet).
_SLACK_PATH = re.compile(r"/services/T[A-Z0-9]{2,20}/B[A-Z0-9]{2,20}/[A-Za-z0-9]{8,64}")
LEVEL_RANK = {NotificationLevel.SUGGESTION: 1, NotificationLevel.WARNING: 2, NotificationLevel.ERROR: 3}
# A channel whose last deliveries failed this many times in a row is flagged on the settings page.
FAILING_AFTER = 3


class ChannelSettingsError(PpcRobotError):
    """A channel setting the user asked for is not allowed; `field` names the form field."""

    def __init__(self, message: str, *, field: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


@dataclass(frozen=True)
class ChannelChoice:
    """What a channel form asks for, shared by e-mail and Slack."""

    is_enabled: bool
    min_level: NotificationLevel
    categories: Sequence[int]


def channel_setting(session: Session, user_id: int, channel: Channel) -> NotificationChannelSetting:
    """The user's setting of `channel`, or an unsaved default one (off) when he has none."""
    found = session.scalar(
        select(NotificationChannelSetting).where(
            NotificationChannelSetting.user_id == user_id,
            NotificationChannelSetting.channel == channel,
        )
    )
    if found is not None:
        return found
    return NotificationChannelSetting(
        user_id=user_id, channel=channel, is_enabled=False, min_level=NotificationLevel.ERROR,
        categories=[], email_mode=EmailMode.IMMEDIATE, digest_hour=8, consecutive_failures=0,
    )


def is_failing(setting: NotificationChannelSetting) -> bool:
    """True when the channel's recent deliveries keep failing."""
    return (setting.consecutive_failures or 0) >= FAILING_AFTER


def _check_choice(choice: ChannelChoice) -> None:
    unknown = [c for c in choice.categories if c not in CATEGORY_NAMES]
    if unknown:
        raise ChannelSettingsError(N_("Choose categories from the list."), field="categories")


def _attach(session: Session, setting: NotificationChannelSetting, choice: ChannelChoice) -> None:
    setting.is_enabled = choice.is_enabled
    setting.min_level = choice.min_level
    setting.categories = sorted(set(choice.categories))
    if setting.id is None:
        session.add(setting)
    session.flush()


def save_email_settings(
    session: Session, user: User, choice: ChannelChoice, *, mode: EmailMode, digest_hour: int
) -> NotificationChannelSetting:
    """Store the user's e-mail channel. Raises ChannelSettingsError (nothing is changed then)."""
    _check_choice(choice)
    if not 0 <= digest_hour <= 23:
        raise ChannelSettingsError(N_("The digest hour is a whole hour from 0 to 23."), field="digest_hour")
    if choice.is_enabled and user.email_verified_at is None:
        raise ChannelSettingsError(
            N_("Your address %(email)s is not verified yet, so no notification is mailed to it. "
               "Verify it first, then turn the e-mail channel on."),
            field="is_enabled", email=user.email,
        )
    setting = channel_setting(session, user.id, Channel.EMAIL)
    setting.email_mode = mode
    setting.digest_hour = digest_hour
    _attach(session, setting, choice)
    logger.info("e-mail channel of user %s saved (enabled=%s, %s)", user.id, choice.is_enabled, mode)
    return setting


def parse_slack_hosts(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The allowed webhook hosts from server configuration (comma-separated or a list)."""
    if not value:
        return DEFAULT_SLACK_HOSTS
    items = value.split(",") if isinstance(value, str) else list(value)
    hosts = tuple(h.strip().lower() for h in items if h.strip())
    return hosts or DEFAULT_SLACK_HOSTS


def check_slack_webhook_url(url: str, allowed_hosts: Sequence[str] = DEFAULT_SLACK_HOSTS) -> str:
    """The webhook URL, trimmed, when it is an https Slack incoming-webhook URL.

    Raises ChannelSettingsError for anything else: another scheme or host, user info, a port,
    an IP address, a query or fragment, or a path that is not /services/T…/B…/token.
    """
    refused = ChannelSettingsError(
        N_("Paste the incoming-webhook URL Slack gave you: https://hooks.slack.com/services/T…/B…/…"),
        field="webhook_url",
    )
    url = (url or "").strip()
    if not url or len(url) > SLACK_URL_MAX or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise refused
    if "\\" in url or "%" in url or "@" in url:
        raise refused
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise refused from exc
    if parts.scheme != "https" or parts.username or parts.password or port not in (None, 443):
        raise refused
    if parts.query or parts.fragment or (parts.hostname or "") not in allowed_hosts:
        raise refused
    if parts.netloc.lower() not in allowed_hosts and parts.netloc.lower() not in {
        f"{h}:443" for h in allowed_hosts
    }:
        raise refused
    if not _SLACK_PATH.fullmatch(parts.path):
        raise refused
    return url


def mask_webhook_url(url: str) -> str:
    """The webhook URL with its secret hidden, for showing back to its owner."""
    parts = urlsplit(url)
    pieces = parts.path.split("/")
    token = pieces[-1] if pieces else ""
    return f"{parts.hostname}/services/…/{'•' * 8}{token[-4:]}"


def save_slack_settings(
    session: Session,
    user: User,
    choice: ChannelChoice,
    *,
    vault: Vault,
    webhook_url: str | None,
    allowed_hosts: Sequence[str] = DEFAULT_SLACK_HOSTS,
) -> NotificationChannelSetting:
    """Store the user's Slack channel; an empty `webhook_url` keeps the stored one.

    Raises ChannelSettingsError (nothing is changed then).
    """
    _check_choice(choice)
    if choice.is_enabled:
        try:
            check_slack_allowed(session, user.id)
        except PlanLimitError as exc:
            raise ChannelSettingsError(exc.message, field="is_enabled", **exc.params) from exc
    setting = channel_setting(session, user.id, Channel.SLACK)
    checked = check_slack_webhook_url(webhook_url, allowed_hosts) if webhook_url else None
    if choice.is_enabled and checked is None and setting.target_encrypted is None:
        raise ChannelSettingsError(N_("Paste a webhook URL to turn Slack on."), field="webhook_url")
    if checked is not None:
        setting.target_encrypted = vault.encrypt(checked)
        setting.consecutive_failures = 0
        setting.last_error = None
        setting.last_failure_at = None
    _attach(session, setting, choice)
    logger.info("slack channel of user %s saved (enabled=%s)", user.id, choice.is_enabled)
    return setting


def masked_target(setting: NotificationChannelSetting, vault: Vault) -> str | None:
    """The stored Slack webhook URL, masked; None when none is stored."""
    if not setting.target_encrypted:
        return None
    return mask_webhook_url(vault.decrypt(setting.target_encrypted))


def wants(setting: NotificationChannelSetting, user: User, notification: Notification) -> bool:
    """Whether this channel should deliver `notification` to its user."""
    if not setting.is_enabled:
        return False
    if LEVEL_RANK[notification.level] < LEVEL_RANK[setting.min_level]:
        return False
    if setting.categories and notification.category not in setting.categories:
        return False
    if setting.channel == Channel.EMAIL:
        return user.email_verified_at is not None
    if setting.channel == Channel.SLACK:
        return bool(setting.target_encrypted)
    return False
