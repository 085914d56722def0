"""Notification pages: the list, one notification, read state and snoozes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ppc_robot.lib.alerts.anomalies_notify import anomaly_chart
from ppc_robot.lib.bounds import parse_int
from ppc_robot.lib.models import Notification, NotificationLevel, NotificationSnooze, Platform
from ppc_robot.lib.notifications import BY_KEY
from ppc_robot.lib.notifications.inbox import (
    NotificationFilters,
    SnoozeError,
    end_snooze,
    filter_choices,
    mark_all_read,
    mark_read,
    notification_page,
    notification_row,
    snooze_type,
    unread_count,
)
from ppc_robot.lib.notifications.translated import translated_type
from ppc_robot.web.access import owned
from ppc_robot.web.extensions import db
from ppc_robot.web.filters import named_localtime
from ppc_robot.web.i18n import current_locale, refusal
from ppc_robot.web.notifications.blueprint import bp, title
from ppc_robot.web.notifications.forms import NotificationFilterForm, NotificationSnoozeForm
from ppc_robot.web.safety import query_int, safe_next

__all__ = ["bp"]

PAGE_MAX = 1_000_000
SNOOZE_DURATIONS = {"1h": timedelta(hours=1), "1d": timedelta(days=1),
                    "7d": timedelta(days=7), "30d": timedelta(days=30)}


def _back(default: str) -> str:
    """`next` from the form when it is a path on this site, else `default`."""
    return safe_next(request.form.get("next"), default)


def _filters(form: NotificationFilterForm) -> NotificationFilters:
    def number(field: Any) -> int | None:
        return parse_int(field.data)

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
                             page=query_int("page", 1, minimum=1, maximum=PAGE_MAX),
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
        targets.append(("job", _("this job")))
    if notification.client_account_id:
        targets.append(("client_account", _("this client account")))
    return NotificationSnoozeForm(targets, **kwargs)


def _show_page(notification: Notification, form: NotificationSnoozeForm, status: int = 200) -> ResponseReturnValue:
    row = notification_row(db.session(), notification)
    kind = BY_KEY.get((notification.category, notification.code))
    kind = translated_type(kind, current_locale()) if kind else None
    return render_template("notifications/show.html", row=row, kind=kind, form=form,
                           chart=anomaly_chart(notification)), status


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
    flash(ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", count),
          "success")
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
            form.target.errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_('“%(title)s” is silenced for %(value)s until %(named_localtime)s.', title=title(notification), value=dict(form.target.choices)[form.target.data], named_localtime=named_localtime(until)), "success")
            return redirect(url_for(".show", notification_id=notification.id))
    return _show_page(notification, form, 422)


@bp.route("/snoozes/<int:snooze_id>/end", methods=["POST"])
def end(snooze_id: int) -> ResponseReturnValue:
    end_snooze(db.session(), owned(NotificationSnooze, snooze_id))
    db.session.commit()
    flash(_("The snooze has ended; the notifications of that type will come again."), "success")
    return redirect(url_for(".settings"))


