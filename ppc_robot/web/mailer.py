"""E-mail from the web app: templates under templates/email/, links on the configured base URL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import current_app, flash, render_template, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ppc_robot.lib.i18n import DEFAULT_LOCALE
from ppc_robot.lib.mail import (
    Mail,
    MailError,
    MailSettings,
    OutboxMessage,
    outbox_messages,
    send_mail,
)
from ppc_robot.web.membership.invites import mark_sent
from ppc_robot.web.models import Invite

logger = logging.getLogger(__name__)


def mail_settings() -> MailSettings:
    return MailSettings.from_config(current_app.config, Path(current_app.instance_path))


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link on PPC_ROBOT_BASE_URL; the request's Host header never shapes it."""
    base = str(current_app.config["PPC_ROBOT_BASE_URL"]).rstrip("/")
    return base + url_for(endpoint, **values)


def send_template(to: str, template: str, subject: str, *, locale: str | None = None,
                  **context: Any) -> str:
    """Render email/<template>.txt and .html in the recipient's `locale` (None: the current
    request's) and send them; `subject` is a (lazy) msgid. Raises MailError."""
    with force_locale(locale or str(get_locale() or DEFAULT_LOCALE)):
        subject = str(subject)
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    return send_mail(mail_settings(), Mail(to=to, subject=subject, text=text, html=html))


def outbox() -> list[OutboxMessage]:
    return outbox_messages(mail_settings().outbox)


def send_invite(invite: Invite, token: str, inviter_name: str) -> bool:
    """Mail the invite link; on failure say so and keep the invite for a resend."""
    try:
        send_template(invite.email, "invite", _l("You are invited to PPC Robot"),
                      inviter_name=inviter_name, expires_at=invite.expires_at,
                      link=external_url("signup.invite_link", token=token))
    except MailError:
        logger.exception("the mail of invite %s could not be sent", invite.id)
        flash(_("The invite is saved but its mail could not be sent. Resend it later."), "danger")
        return False
    mark_sent(invite)
    return True
