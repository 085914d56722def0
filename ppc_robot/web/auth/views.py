"""Log in and out, reset a forgotten password, confirm a new address (public pages)."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from ppc_robot.lib.mail import MailError
from ppc_robot.lib.passwords import PasswordPolicyError
from ppc_robot.lib.users import authenticate, end_sessions
from ppc_robot.web.auth.forms import (
    EmailConfirmForm,
    LoginForm,
    PasswordForgotForm,
    PasswordResetForm,
)
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal
from ppc_robot.web.mailer import external_url, send_template
from ppc_robot.web.membership.accounts import (
    AccountError,
    check_email_token,
    check_reset_token,
    confirm_email_change,
    request_password_reset,
    reset_password,
)
from ppc_robot.web.membership.throttle import clear_failures, is_locked, record_failure
from ppc_robot.web.membership.tokens import INVALID_LINK, InvalidLinkError
from ppc_robot.web.ratelimits import rate_limit
from ppc_robot.web.safety import safe_next

bp = Blueprint("auth", __name__)
logger = logging.getLogger(__name__)
security_log = logging.getLogger("ppc_robot.security")

LOGIN_FAILED = "The e-mail or password is not right."
LOGIN_LOCKED = (
    "Too many failed attempts for this account. Wait 15 minutes and try again, "
    "or reset your password."
)
RESET_SENT = (
    "If an account uses this address, a link to choose a new password is on its way. "
    "It works for 60 minutes."
)


def invalid_link() -> ResponseReturnValue:
    """The one page for every link that does not work, whatever the reason."""
    return render_template("auth/invalid_link.html", text=INVALID_LINK), 404


@bp.app_errorhandler(429)
def too_many_requests(_exc: Exception) -> ResponseReturnValue:
    text = "Too many attempts from your address. Wait a few minutes and try again."
    return render_template("errors/error.html", code=429, title="Too many attempts", text=text), 429


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    if request.method == "POST":
        rate_limit("login")
    form = LoginForm()
    if form.validate_on_submit():
        if is_locked(db.session(), form.email.data):
            security_log.warning("login refused: account locked after repeated failures")
            form.password.errors.append(LOGIN_LOCKED)
            return render_template("auth/login.html", form=form), 429
        user = authenticate(db.session(), form.email.data, form.password.data)
        if user is not None:
            clear_failures(db.session(), form.email.data)
            db.session.commit()
            session.clear()  # nothing from before the login carries over
            login_user(user)
            return redirect(safe_next(request.args.get("next"), url_for("dashboard.index")))
        record_failure(db.session(), form.email.data)
        db.session.commit()
        form.password.errors.append(LOGIN_FAILED)
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        end_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    if request.method == "POST":
        rate_limit("reset")
    form = PasswordForgotForm()
    if form.validate_on_submit():
        found = request_password_reset(db.session(), form.email.data)
        db.session.commit()
        if found is not None:
            user, token = found
            try:
                send_template(user.email, "password_reset", _l("Choose a new PPC Robot password"),
                              locale=user.locale, user=user, link=external_url("auth.reset_link", token=token))
            except MailError:
                logger.exception("the reset mail for user %s could not be sent", user.id)
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>")
def reset_link(token: str) -> ResponseReturnValue:
    """Keep the token in the session and drop it from the address bar (and the Referer)."""
    try:
        check_reset_token(db.session(), token)
    except InvalidLinkError:
        return invalid_link()
    session["reset_token"] = token
    return redirect(url_for("auth.reset"))


@bp.route("/password/reset", methods=["GET", "POST"])
def reset() -> ResponseReturnValue:
    if request.method == "POST":
        rate_limit("reset")
    token = session.get("reset_token", "")
    try:
        check_reset_token(db.session(), token)
    except InvalidLinkError:
        return invalid_link()
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            reset_password(db.session(), token, form.password.data)
        except InvalidLinkError:
            return invalid_link()
        except PasswordPolicyError as exc:
            form.password.errors.append(refusal(exc))
        else:
            db.session.commit()
            session.pop("reset_token", None)
            flash(_("Your password is changed. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 422 if form.errors else 200


@bp.route("/email/confirm/<token>")
def email_link(token: str) -> ResponseReturnValue:
    try:
        check_email_token(db.session(), token)
    except InvalidLinkError:
        return invalid_link()
    session["email_token"] = token
    return redirect(url_for("auth.email_confirm"))


@bp.route("/email/confirm", methods=["GET", "POST"])
def email_confirm() -> ResponseReturnValue:
    form = EmailConfirmForm()
    if form.validate_on_submit():
        try:
            user = confirm_email_change(db.session(), session.pop("email_token", ""))
        except InvalidLinkError:
            return invalid_link()
        except AccountError as exc:
            flash(refusal(exc), "danger")
            return redirect(url_for("auth.login"))
        db.session.commit()
        flash(_('Your address is now %(email)s.', email=user.email), "success")
        return redirect(url_for("settings.index" if current_user.is_authenticated else "auth.login"))
    try:
        new_email = check_email_token(db.session(), session.get("email_token", ""))
    except InvalidLinkError:
        return invalid_link()
    return render_template("auth/email_confirm.html", form=form, new_email=new_email)
