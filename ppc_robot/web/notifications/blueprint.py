"""The notifications blueprint, its guard, and what every page needs: the bell and filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask_babel import gettext, ngettext
from flask_login import current_user

from ppc_robot.lib.models import Notification, utcnow
from ppc_robot.lib.notifications.inbox import NotificationRow, latest_notifications, unread_count
from ppc_robot.lib.notifications.translated import (
    category_names,
    level_name,
    translated_message,
    translated_title,
)
from ppc_robot.web.access import require_login
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import current_locale
from ppc_robot.web.notifications.links import object_links

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
bp.before_request(require_login)

BELL_SIZE = 8


@dataclass(frozen=True)
class Bell:
    unread: int
    latest: list[NotificationRow]


def _bell() -> Bell | None:
    if not current_user.is_authenticated:
        return None
    session = db.session()
    unread = unread_count(session, current_user.id)
    # Every page draws the bell: with nothing unread it costs one count, not the list query.
    latest = latest_notifications(session, current_user.id, limit=BELL_SIZE) if unread else []
    return Bell(unread, latest)


@bp.app_context_processor
def _notification_globals() -> dict[str, Any]:
    return {"notification_bell": _bell, "notification_links": object_links,
            "notification_title": title, "notification_message": message,
            "level_name": lambda level: level_name(level, current_locale()),
            "category_names": category_names(current_locale())}


@bp.app_template_filter("ago")
def ago(value: datetime | None) -> str:
    """How long ago, in words: "just now", "5 minutes ago", "3 days ago"."""
    if value is None:
        return ""
    seconds = int((utcnow() - value).total_seconds())
    if seconds >= 86400:
        return ngettext("%(num)d day ago", "%(num)d days ago", seconds // 86400)
    if seconds >= 3600:
        return ngettext("%(num)d hour ago", "%(num)d hours ago", seconds // 3600)
    if seconds >= 60:
        return ngettext("%(num)d minute ago", "%(num)d minutes ago", seconds // 60)
    return gettext("just now")


def title(notification: Notification) -> str:
    """The notification type's title in the reader's language."""
    return translated_title(notification, current_locale())


def message(notification: Notification) -> str:
    """The notification's message in the reader's language."""
    return translated_message(notification, current_locale())


