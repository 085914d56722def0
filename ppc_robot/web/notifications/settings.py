"""The channel settings page: e-mail and Slack, test messages, active snoozes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ppc_robot.lib.models import Channel, EmailMode, NotificationChannelSetting, NotificationLevel
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
from ppc_robot.lib.notifications.inbox import active_snoozes
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal
from ppc_robot.web.notifications.blueprint import bp
from ppc_robot.web.notifications.forms import EmailChannelForm, SlackChannelForm


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
            getattr(form, exc.field).errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_("E-mail notification settings saved."), "success")
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
            getattr(form, exc.field).errors.append(refusal(exc))
        else:
            db.session.commit()
            flash(_("Slack notification settings saved."), "success")
            return redirect(url_for(".settings"))
    return _settings_page(slack_form=form)


def _test(channel: Channel, sent: str) -> ResponseReturnValue:
    # A test is the user waiting for an answer, so it is sent now with short time-outs;
    # real notifications are only ever delivered by the worker.
    try:
        send_test_message(db.session(), current_user, channel, _delivery_config())
    except DeliveryError as exc:
        flash(refusal(exc), "error")
    else:
        flash(sent, "success")
    return redirect(url_for(".settings"))


@bp.route("/settings/email/test", methods=["POST"])
def test_email() -> ResponseReturnValue:
    return _test(Channel.EMAIL, _("A test message was sent to your e-mail address."))


@bp.route("/settings/slack/test", methods=["POST"])
def test_slack() -> ResponseReturnValue:
    return _test(Channel.SLACK, _("A test message was sent to your Slack channel."))
