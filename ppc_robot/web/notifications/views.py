"""Notification pages: the bell, the list, one notification, snoozes and the channel settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ppc_robot.lib.models import (
    Channel,
    EmailMode,
    Notification,
    NotificationChannelSetting,
    NotificationLevel,
    NotificationSnooze,
    Platform,
    utcnow,
)
from ppc_robot.lib.notifications import BY_KEY, CATEGORY_NAMES
from ppc_robot.lib.notifications.channels import (
    ChannelChoice,
    ChannelSettingsError,
    channel_setting,
    is_failing,
    masked_target,
    parse_slack_hosts,
    save_email_settings,
    save_slack_settings,
)
from ppc_robot.lib.notifications.delivery import DeliveryConfig, DeliveryError, send_test_message
from ppc_robot.lib.notifications.inbox import (
    NotificationFilters,
    NotificationRow,
    SnoozeError,
    active_snoozes,
    end_snooze,
    filter_choices,
    latest_notifications,
    mark_all_read,
    mark_read,
    notification_page,
    notification_row,
    snooze_type,
    unread_count,
)
from ppc_robot.web.access import owned, require_login
from ppc_robot.web.extensions import db
from ppc_robot.web.notifications.forms import (
    EmailChannelForm,
    NotificationFilterForm,
    NotificationSnoozeForm,
    SlackChannelForm,
)
from ppc_robot.web.notifications.links import object_links

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
bp.before_request(require_login)

SNOOZE_DURATIONS = {"1h": timedelta(hours=1), "1d": timedelta(days=1),
                    "7d": timedelta(days=7), "30d": timedelta(days=30)}
BELL_SIZE = 8


@dataclass(frozen=True)
class Bell:
    unread: int
    latest: list[NotificationRow]


def _bell() -> Bell | None:
    if not current_user.is_authenticated:
        return None
    session = db.session()
    return Bell(unread_count(session, current_user.id),
                latest_notifications(session, current_user.id, limit=BELL_SIZE))


@bp.app_context_processor
def _notification_globals() -> dict[str, Any]:
    return {"notification_bell": _bell, "notification_links": object_links,
            "notification_title": _title, "category_names": CATEGORY_NAMES}


@bp.app_template_filter("ago")
def ago(value: datetime | None) -> str:
    """How long ago, in words: "just now", "5 minutes ago", "3 days ago"."""
    if value is None:
        return ""
    seconds = int((utcnow() - value).total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def _title(notification: Notification) -> str:
    kind = BY_KEY.get((notification.category, notification.code))
    return kind.title if kind else f"Notification {notification.category}/{notification.code}"


def _back(default: str) -> str:
    """`next` from the form when it is a path on this site, else `default`."""
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return default


def _filters(form: NotificationFilterForm) -> NotificationFilters:
    def number(field: Any) -> int | None:
        return int(field.data) if field.data and field.data.isdigit() else None

    return NotificationFilters(
        level=NotificationLevel(form.level.data) if form.level.data else None,
        category=number(form.category),
        platform=Platform(form.platform.data) if form.platform.data else None,
        service_account_id=number(form.service_account_id),
        client_account_id=number(form.client_account_id),
        job_id=number(form.job_id),
        is_read={"read": True, "unread": False}.get(form.state.data or ""),
    )


@bp.route("/")
def index() -> ResponseReturnValue:
    session = db.session()
    form = NotificationFilterForm(request.args, filter_choices(session, current_user))
    valid = form.validate()
    for field in form:
        if field.errors:
            field.data = ""  # an unknown choice (someone else's id, a typo) filters nothing
    page = notification_page(session, current_user.id, _filters(form),
                             page=request.args.get("page", 1, type=int),
                             per_page=current_app.config.get("PPC_ROBOT_PAGE_SIZE", 50))
    html = render_template("notifications/index.html", form=form, page=page,
                           filters=form.active(), unread=unread_count(session, current_user.id))
    return html, 200 if valid else 422


@bp.route("/unread")
def unread() -> ResponseReturnValue:
    """The bell's count, for the page script that keeps it fresh."""
    return jsonify(unread=unread_count(db.session(), current_user.id))


@bp.route("/<int:notification_id>")
def show(notification_id: int) -> ResponseReturnValue:
    notification = owned(Notification, notification_id)
    form = _snooze_form(notification)
    return _show_page(notification, form)


def _snooze_form(notification: Notification, **kwargs: Any) -> NotificationSnoozeForm:
    targets = []
    if notification.job_id:
        targets.append(("job", "this job"))
    if notification.client_account_id:
        targets.append(("client_account", "this client account"))
    return NotificationSnoozeForm(targets, **kwargs)


def _show_page(notification: Notification, form: NotificationSnoozeForm, status: int = 200) -> ResponseReturnValue:
    row = notification_row(db.session(), notification)
    kind = BY_KEY.get((notification.category, notification.code))
    return render_template("notifications/show.html", row=row, kind=kind, form=form), status


@bp.route("/<int:notification_id>/read", methods=["POST"])
def read(notification_id: int) -> ResponseReturnValue:
    notification = owned(Notification, notification_id)
    mark_read(db.session(), notification)
    db.session.commit()
    return redirect(_back(url_for(".index")))


@bp.route("/<int:notification_id>/open", methods=["POST"])
def open_(notification_id: int) -> ResponseReturnValue:
    """The bell's items: opening one marks it read, as the original's click did."""
    notification = owned(Notification, notification_id)
    mark_read(db.session(), notification)
    db.session.commit()
    return redirect(url_for(".show", notification_id=notification.id))


@bp.route("/read-all", methods=["POST"])
def read_all() -> ResponseReturnValue:
    count = mark_all_read(db.session(), current_user.id)
    db.session.commit()
    flash(f"{count} notification{'' if count == 1 else 's'} marked read.", "success")
    return redirect(_back(url_for(".index")))


@bp.route("/<int:notification_id>/snooze", methods=["POST"])
def snooze(notification_id: int) -> ResponseReturnValue:
    notification = owned(Notification, notification_id)
    form = _snooze_form(notification)
    if form.validate_on_submit():
        try:
            until = snooze_type(db.session(), notification, target=form.target.data,
                                duration=SNOOZE_DURATIONS[form.duration.data]).until
        except SnoozeError as exc:
            db.session.rollback()
            form.target.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"“{_title(notification)}” is silenced for {dict(form.target.choices)[form.target.data]} "
                  f"until {until.strftime('%Y-%m-%d %H:%M')} UTC.", "success")
            return redirect(url_for(".show", notification_id=notification.id))
    return _show_page(notification, form, 422)


@bp.route("/snoozes/<int:snooze_id>/end", methods=["POST"])
def end(snooze_id: int) -> ResponseReturnValue:
    end_snooze(db.session(), owned(NotificationSnooze, snooze_id))
    db.session.commit()
    flash("The snooze has ended; the notifications of that type will come again.", "success")
    return redirect(url_for(".settings"))


def _channel_data(setting: NotificationChannelSetting) -> dict[str, Any]:
    return {"is_enabled": setting.is_enabled, "min_level": setting.min_level.value,
            "categories": list(setting.categories or []), "email_mode": setting.email_mode.value,
            "digest_hour": setting.digest_hour}


def _delivery_config() -> DeliveryConfig:
    return DeliveryConfig.from_config(current_app.config, Path(current_app.instance_path))


def _settings_page(email_form: EmailChannelForm | None = None,
                   slack_form: SlackChannelForm | None = None) -> ResponseReturnValue:
    session = db.session()
    email = channel_setting(session, current_user.id, Channel.EMAIL)
    slack = channel_setting(session, current_user.id, Channel.SLACK)
    email_form = email_form or EmailChannelForm(formdata=None, prefix="email", data=_channel_data(email))
    slack_form = slack_form or SlackChannelForm(formdata=None, prefix="slack", data=_channel_data(slack))
    html = render_template(
        "notifications/settings.html", email_form=email_form, slack_form=slack_form,
        email=email, slack=slack, email_failing=is_failing(email), slack_failing=is_failing(slack),
        masked_webhook=masked_target(slack, _delivery_config().vault),
        snoozes=active_snoozes(session, current_user.id),
    )
    return html, 422 if (email_form.errors or slack_form.errors) else 200


def _choice(form: EmailChannelForm | SlackChannelForm) -> ChannelChoice:
    return ChannelChoice(bool(form.is_enabled.data), NotificationLevel(form.min_level.data),
                         list(form.categories.data or []))


@bp.route("/settings")
def settings() -> ResponseReturnValue:
    return _settings_page()


@bp.route("/settings/email", methods=["POST"])
def save_email() -> ResponseReturnValue:
    form = EmailChannelForm(prefix="email")
    if form.validate_on_submit():
        try:
            save_email_settings(db.session(), current_user, _choice(form),
                                mode=EmailMode(form.email_mode.data), digest_hour=form.digest_hour.data)
        except ChannelSettingsError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(str(exc))
        else:
            db.session.commit()
            flash("E-mail notification settings saved.", "success")
            return redirect(url_for(".settings"))
    return _settings_page(email_form=form)


@bp.route("/settings/slack", methods=["POST"])
def save_slack() -> ResponseReturnValue:
    form = SlackChannelForm(prefix="slack")
    if form.validate_on_submit():
        try:
            save_slack_settings(db.session(), current_user, _choice(form),
                                vault=_delivery_config().vault, webhook_url=form.webhook_url.data or None,
                                allowed_hosts=parse_slack_hosts(current_app.config.get("SLACK_WEBHOOK_HOSTS")))
        except ChannelSettingsError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(str(exc))
        else:
            db.session.commit()
            flash("Slack notification settings saved.", "success")
            return redirect(url_for(".settings"))
    return _settings_page(slack_form=form)


def _test(channel: Channel, label: str) -> ResponseReturnValue:
    # A test is the user waiting for an answer, so it is sent now with short time-outs;
    # real notifications are only ever delivered by the worker.
    try:
        send_test_message(db.session(), current_user, channel, _delivery_config())
    except DeliveryError as exc:
        flash(str(exc), "error")
    else:
        flash(f"A test message was sent to your {label}.", "success")
    return redirect(url_for(".settings"))


@bp.route("/settings/email/test", methods=["POST"])
def test_email() -> ResponseReturnValue:
    return _test(Channel.EMAIL, "e-mail address")


@bp.route("/settings/slack/test", methods=["POST"])
def test_slack() -> ResponseReturnValue:
    return _test(Channel.SLACK, "Slack channel")
