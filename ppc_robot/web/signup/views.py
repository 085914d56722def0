"""Sign-up: through an invite link, or open when the configuration allows (public pages)."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user

from ppc_robot.lib.mail import MailError
from ppc_robot.lib.models import User
from ppc_robot.lib.passwords import PasswordPolicyError
from ppc_robot.lib.users import UserError, create_user
from ppc_robot.web.auth.views import invalid_link
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal
from ppc_robot.web.mailer import external_url, send_template
from ppc_robot.web.membership.accounts import request_email_verification
from ppc_robot.web.membership.invites import accept_invite, valid_invite
from ppc_robot.web.membership.plans import start_trial
from ppc_robot.web.membership.tokens import InvalidLinkError
from ppc_robot.web.ratelimits import rate_limit
from ppc_robot.web.signup.forms import SignupForm

bp = Blueprint("signup", __name__)
logger = logging.getLogger(__name__)

READY = "Welcome to PPC Robot. Your account is ready."
security_log = logging.getLogger("ppc_robot.security")


@bp.route("/invite/<token>")
def invite_link(token: str) -> ResponseReturnValue:
    """Keep the token in the session and drop it from the address bar (and the Referer)."""
    rate_limit("invite")
    try:
        valid_invite(db.session(), token)
    except InvalidLinkError:
        return invalid_link()
    session["invite_token"] = token
    return redirect(url_for("signup.form"))


@bp.route("/signup", methods=["GET", "POST"])
def form() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    if request.method == "POST":
        rate_limit("signup")
    token = session.get("invite_token")
    if token is None:
        if not current_app.config.get("PPC_ROBOT_OPEN_REGISTRATION"):
            text = "PPC Robot accounts are by invitation. Ask an administrator for an invite."
            return render_template("errors/error.html", code=403, title="Invitation only",
                                   text=text), 403
        return _open_signup()
    try:
        invite = valid_invite(db.session(), token)
    except InvalidLinkError:
        session.pop("invite_token", None)
        return invalid_link()
    signup = SignupForm(invited_email=invite.email)
    if signup.validate_on_submit():
        try:
            user = accept_invite(db.session(), token, signup.password.data,
                                 name=signup.name.data or "", time_zone=signup.time_zone.data,
                                 trial_days=current_app.config["PPC_ROBOT_TRIAL_DAYS"])
        except InvalidLinkError:
            db.session.rollback()
            return invalid_link()
        except PasswordPolicyError as exc:
            db.session.rollback()
            signup.password.errors.append(refusal(exc))
        except UserError as exc:
            db.session.rollback()
            signup.email.errors.append(refusal(exc))
        else:
            db.session.commit()
            return _logged_in(user, READY)
    html = render_template("signup/form.html", form=signup, invite=invite)
    return html, 422 if signup.errors else 200


def _open_signup() -> ResponseReturnValue:
    signup = SignupForm()
    if signup.validate_on_submit():
        try:
            user = create_user(db.session(), signup.email.data, signup.password.data,
                               name=signup.name.data or "", time_zone=signup.time_zone.data)
        except PasswordPolicyError as exc:
            signup.password.errors.append(refusal(exc))
        except UserError as exc:
            signup.email.errors.append(refusal(exc))
        else:
            start_trial(db.session(), user, days=current_app.config["PPC_ROBOT_TRIAL_DAYS"])
            token = request_email_verification(db.session(), user)
            db.session.commit()
            try:
                send_template(user.email, "email_confirm", _l("Confirm your PPC Robot address"),
                              locale=user.locale, new_email=user.email, link=external_url("auth.email_link",
                                                                      token=token))
            except MailError:
                logger.exception("the confirmation mail for user %s could not be sent", user.id)
            return _logged_in(user, READY + " We sent a link to confirm your address.")
    html = render_template("signup/form.html", form=signup, invite=None)
    return html, 422 if signup.errors else 200


def _logged_in(user: User, message: str) -> ResponseReturnValue:
    """Start the new user's session (nothing from before carries over) and show his dashboard."""
    session.clear()
    login_user(user)
    security_log.info("user %s signed up and logged in", user.id)
    flash(message, "success")
    return redirect(url_for("dashboard.index"))
