"""Log in and out (public pages)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from ppc_robot.lib.users import authenticate, end_sessions
from ppc_robot.web.auth.forms import LoginForm
from ppc_robot.web.extensions import db

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "The e-mail or password is not right."


def _safe_next(target: str | None) -> str:
    """Follow ?next= only when it is a path on this site."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session(), form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            session.clear()  # nothing from before the login carries over
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
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
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
