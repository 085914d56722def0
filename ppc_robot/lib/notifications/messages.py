"""What a notification says outside the app: e-mail bodies (Jinja) and Slack blocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.i18n import N_, locale_or_default, translate, translations_for
from ppc_robot.lib.mail import Mail
from ppc_robot.lib.models import ClientAccount, Job, Notification, ServiceAccount, User
from ppc_robot.lib.notifications.catalogue import BY_KEY, CATEGORY_NAMES
from ppc_robot.lib.notifications.slack import SLACK_TEXT_MAX, Mrkdwn, clip, link
from ppc_robot.lib.notifications.translated import (
    category_names,
    level_name,
    translated_message,
    translated_title,
)
from ppc_robot.lib.times import named_local_text

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
SUBJECT_MAX = 150


@dataclass(frozen=True)
class Described:
    """A notification with the names of what it is about and the links back to the app."""

    notification: Notification
    job_name: str | None
    client_account_name: str | None
    service_account_name: str | None
    links: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        kind = BY_KEY.get((self.notification.category, self.notification.code))
        return kind.title if kind else f"Notification {self.notification.category}/{self.notification.code}"

    @property
    def place(self) -> str:
        """The account and job it concerns; empty when neither (mails then say "Your workspace"
        in the reader's language)."""
        parts = [self.client_account_name or self.service_account_name, self.job_name]
        return " · ".join(p for p in parts if p)

    @property
    def where(self) -> str:
        return self.place or "Your workspace"


def links_for(notification: Notification, base_url: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    result = {
        "show": f"{base}/notifications/{notification.id}",
        "help": f"{base}/help/notifications/{notification.category}/{notification.code}",
        "list": f"{base}/notifications/",
        "settings": f"{base}/notifications/settings",
    }
    if notification.job_id is not None:
        result["job"] = f"{base}/notifications/?job_id={notification.job_id}"
    return result


def describe(session: Session, notifications: Sequence[Notification], base_url: str) -> list[Described]:
    """Each notification with its job and account names, in three queries at most."""
    def names(model: type, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        return dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())

    jobs = names(Job, {n.job_id for n in notifications if n.job_id})
    clients = names(ClientAccount, {n.client_account_id for n in notifications if n.client_account_id})
    logins = names(ServiceAccount, {n.service_account_id for n in notifications if n.service_account_id})
    return [
        Described(n, jobs.get(n.job_id), clients.get(n.client_account_id),
                  logins.get(n.service_account_id), links_for(n, base_url))
        for n in notifications
    ]


@lru_cache(maxsize=8)
def _environment(templates: Path, locale: str) -> Environment:
    """The mail templates speaking `locale`: one environment per language, so that worker
    threads writing to different users never share the installed translations."""
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations_for(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        category_names=category_names(locale), locale=locale,
        notification_title=lambda n: translated_title(n, locale),
        notification_message=lambda n: translated_message(n, locale),
        level_name=lambda level: level_name(level, locale))
    return env


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _render_pair(name: str, templates: Path, locale: str,
                 **context: object) -> tuple[str, str]:
    env = _environment(templates, locale)
    text = env.get_template(f"email/notifications/{name}.txt").render(**context)
    html = env.get_template(f"email/notifications/{name}.html").render(**context)
    return text, html


def _subject(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= SUBJECT_MAX else one_line[: SUBJECT_MAX - 1] + "…"


def _localtime(user: User):
    """Times of a mail in the user's zone, named: a mail is read away from the app's pages."""
    zone = _zone(user).key

    def fmt(value: datetime | None) -> str:
        return "—" if value is None else named_local_text(value, zone)

    return fmt


def immediate_mail(
    user: User, item: Described, base_url: str, *, message_id: str, templates: Path = TEMPLATES
) -> Mail:
    """One notification as its own mail."""
    locale = locale_or_default(user.locale)
    text, html = _render_pair("immediate", templates, locale, user=user, item=item,
                              base_url=base_url, localtime=_localtime(user))
    level = level_name(item.notification.level, locale).capitalize()
    message = translated_message(item.notification, locale)
    return Mail(user.email, _subject(f"[PPC Robot] {level}: {message}"), text, html,
                message_id=message_id)


@dataclass(frozen=True)
class DigestGroup:
    account: str
    job: str
    items: list[Described]


def group_for_digest(items: Sequence[Described]) -> list[DigestGroup]:
    """Items grouped by account, then job; groups and items in a stable, readable order."""
    groups: dict[tuple[str, str], list[Described]] = {}
    for item in items:
        # Empty when missing: the mail says "No account" / "No job" in the reader's language.
        account = item.client_account_name or item.service_account_name or ""
        job = item.job_name or ""
        groups.setdefault((account, job), []).append(item)
    ordered = []
    for (account, job), members in sorted(groups.items(), key=lambda kv: (
            (kv[0][0] or "No account").lower(), (kv[0][1] or "No job").lower())):
        members.sort(key=lambda d: (-d.notification.score, d.notification.created_at))
        ordered.append(DigestGroup(account, job, members))
    return ordered


def digest_mail(
    user: User, items: Sequence[Described], day: date, base_url: str, *, message_id: str,
    templates: Path = TEMPLATES,
) -> Mail:
    """The day's notifications in one mail, grouped by account and job."""
    groups = group_for_digest(items)
    locale = locale_or_default(user.locale)
    text, html = _render_pair("digest", templates, locale, user=user, groups=groups, day=day,
                              count=len(items), base_url=base_url.rstrip("/"),
                              localtime=_localtime(user))
    subject = translations_for(locale).ngettext(
        "[PPC Robot] Daily digest for %(day)s: %(num)d notification",
        "[PPC Robot] Daily digest for %(day)s: %(num)d notifications", len(items))
    return Mail(user.email, subject % {"day": f"{day:%Y-%m-%d}", "num": len(items)},
                text, html, message_id=message_id)


def channel_test_mail(user: User, base_url: str, *, templates: Path = TEMPLATES) -> Mail:
    """A mail that proves the channel works."""
    locale = locale_or_default(user.locale)
    text, html = _render_pair("test", templates, locale, user=user, base_url=base_url.rstrip("/"))
    return Mail(user.email, translate(N_("[PPC Robot] Test message"), locale), text, html)


def slack_payload(item: Described) -> dict:
    """Slack message blocks for one notification, with links back to the app.

    Names and messages stay plain strings (user text), escaped once when posted.
    """
    n = item.notification
    icon = {"error": ":red_circle:", "warning": ":large_orange_circle:"}.get(n.level.value, ":bulb:")
    message = clip(n.message, SLACK_TEXT_MAX - 200)
    fallback = clip(f"{n.level.value.capitalize()}: {n.message}", SLACK_TEXT_MAX)
    return {
        "text": fallback,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": Mrkdwn("{} *{}*\n{}").format(
                Mrkdwn(icon), item.title, message)}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": item.where},
                {"type": "mrkdwn", "text": f"{n.level.value} · {CATEGORY_NAMES.get(n.category, n.category)}"},
            ]},
            {"type": "section", "text": {"type": "mrkdwn", "text": Mrkdwn(" · ").join([
                link(item.links["show"], "Open in PPC Robot"),
                link(item.links["help"], "What to do"),
            ])}},
        ],
    }


def slack_channel_test_payload(base_url: str) -> dict:
    text = "Test message from PPC Robot: notifications will arrive in this channel."
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": link(base_url.rstrip("/") + "/notifications/settings",
                                                "Notification settings")},
            ]},
        ],
    }
