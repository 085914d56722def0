"""The user's own settings: profile, password, e-mail, usage of his plan, his invites."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_user

from ppc_robot.lib.limits import jobs_paused_for
from ppc_robot.lib.mail import MailError
from ppc_robot.lib.passwords import PasswordPolicyError
from ppc_robot.web.access import owned, require_login
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal
from ppc_robot.web.mailer import external_url, send_invite, send_template
from ppc_robot.web.membership.accounts import (
    AccountError,
    change_password,
    request_email_change,
    resend_email_verification,
    update_profile,
)
from ppc_robot.web.membership.invites import (
    InviteError,
    PendingInviteError,
    check_may_invite,
    create_invite,
    invite_status,
    invites_by,
    renew_invite,
    revoke_invite,
)
from ppc_robot.web.membership.plans import usage_for
from ppc_robot.web.models import Invite
from ppc_robot.web.ratelimits import rate_limit
from ppc_robot.web.settings.forms import (
    ConfirmForm,
    EmailChangeForm,
    InviteForm,
    PasswordChangeForm,
    ProfileForm,
)

bp = Blueprint("settings", __name__, url_prefix="/settings")
bp.before_request(require_login)
logger = logging.getLogger(__name__)


@bp.route("/", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            update_profile(db.session(), current_user, name=form.name.data or "",
                           time_zone=form.time_zone.data, locale=form.locale.data)
        except AccountError as exc:
            form.time_zone.errors.append(refusal(exc))
        else:
            db.session.commit()
            refresh()  # the message below already speaks the language just chosen
            flash(_("Your profile is saved."), "success")
            return redirect(url_for(".index"))
    return render_template("settings/index.html", form=form), 422 if form.errors else 200


@bp.route("/email/confirm-again", methods=["POST"])
def confirm_again() -> ResponseReturnValue:
    """Mail the confirmation link of the current, unverified address once more."""
    if ConfirmForm().validate_on_submit():
        rate_limit("confirm")
        try:
            token = resend_email_verification(db.session(), current_user)
        except AccountError as exc:
            flash(refusal(exc), "warning")
            return redirect(url_for(".index"))
        db.session.commit()
        try:
            send_template(current_user.email, "email_confirm", _l("Confirm your PPC Robot address"),
                          locale=current_user.locale, new_email=current_user.email,
                          link=external_url("auth.email_link", token=token))
        except MailError:
            logger.exception("the confirmation mail of user %s failed", current_user.id)
            flash(_("The confirmation mail could not be sent. Try again later."), "danger")
        else:
            flash(_('We sent a link to %(email)s. Open it to confirm the address.', email=current_user.email),
                  "info")
    return redirect(url_for(".index"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(db.session(), user, form.current.data, form.password.data)
        except AccountError as exc:
            form.current.errors.append(refusal(exc))
        except PasswordPolicyError as exc:
            form.password.errors.append(refusal(exc))
        else:
            db.session.commit()
            login_user(user)  # this session carries the new token; the others end
            flash(_("Your password is changed. Your other sessions have ended."), "success")
            return redirect(url_for(".index"))
    return render_template("settings/password.html", form=form), 422 if form.errors else 200


@bp.route("/email", methods=["GET", "POST"])
def email() -> ResponseReturnValue:
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            token = request_email_change(db.session(), current_user, form.password.data,
                                         form.email.data)
        except AccountError as exc:
            field = form.password if "password" in str(exc) else form.email
            field.errors.append(refusal(exc))
        else:
            db.session.commit()
            new_email = form.email.data.strip().lower()
            try:
                send_template(new_email, "email_confirm", _l("Confirm your new PPC Robot address"),
                              locale=current_user.locale, new_email=new_email,
                              link=external_url("auth.email_link", token=token))
                send_template(current_user.email, "email_change_notice",
                              _l("Your PPC Robot address is changing"),
                              locale=current_user.locale, new_email=new_email)
            except MailError:
                logger.exception("the address change mail of user %s failed", current_user.id)
                flash(_("The confirmation mail could not be sent. Try again later."), "danger")
                return redirect(url_for(".email"))
            flash(_('We sent a link to %(new_email)s. Open it to switch to the new address.', new_email=new_email), "info")
            return redirect(url_for(".index"))
    return render_template("settings/email.html", form=form), 422 if form.errors else 200


@bp.route("/usage")
def usage() -> ResponseReturnValue:
    subscription, lines = usage_for(db.session(), current_user)
    paused = jobs_paused_for(db.session(), current_user.id)
    return render_template("settings/usage.html", subscription=subscription, lines=lines,
                           paused=paused)


@bp.route("/invites", methods=["GET", "POST"])
def invites() -> ResponseReturnValue:
    form = InviteForm()
    pending = None
    if form.validate_on_submit():
        try:
            invite, token = create_invite(db.session(), current_user, form.email.data,
                                          ttl=_invite_ttl())
        except PendingInviteError as exc:
            form.email.errors.append(refusal(exc))
            if exc.invite.invited_by_id == current_user.id:
                pending = exc.invite  # his own: offered for resending beside the message
        except InviteError as exc:
            form.email.errors.append(refusal(exc))
        else:
            sent = send_invite(invite, token, current_user.name or current_user.email)
            db.session.commit()
            if sent:
                flash(_('Invite sent to %(email)s.', email=invite.email), "success")
            return redirect(url_for(".invites"))
    try:
        check_may_invite(db.session(), current_user)
        may_invite = True
    except InviteError:
        may_invite = False
    rows = [(invite, invite_status(invite)) for invite in invites_by(db.session(), current_user)]
    html = render_template("settings/invites.html", form=form, rows=rows, pending=pending,
                           may_invite=may_invite, confirm=ConfirmForm())
    return html, 422 if form.errors else 200


def _invite_ttl() -> timedelta:
    return timedelta(days=current_app.config["PPC_ROBOT_INVITE_TTL_DAYS"])


@bp.route("/invites/<int:invite_id>/resend", methods=["POST"])
def resend(invite_id: int) -> ResponseReturnValue:
    invite = owned(Invite, invite_id)
    if ConfirmForm().validate_on_submit():
        try:
            token = renew_invite(db.session(), invite, ttl=_invite_ttl())
        except InviteError as exc:
            db.session.rollback()
            flash(refusal(exc), "danger")
        else:
            sent = send_invite(invite, token, current_user.name or current_user.email)
            db.session.commit()
            if sent:
                flash(_('Invite sent to %(email)s again; it now works until %(expires_at)s. The older link no longer works.', email=invite.email, expires_at=invite.expires_at.strftime("%Y-%m-%d")), "success")
    return redirect(url_for(".invites"))


@bp.route("/invites/<int:invite_id>/revoke", methods=["POST"])
def revoke(invite_id: int) -> ResponseReturnValue:
    invite = owned(Invite, invite_id)
    if ConfirmForm().validate_on_submit():
        try:
            revoke_invite(db.session(), invite)
        except InviteError as exc:
            flash(refusal(exc), "danger")
        else:
            db.session.commit()
            flash(_('The invite of %(email)s is revoked.', email=invite.email), "success")
    return redirect(url_for(".invites"))

