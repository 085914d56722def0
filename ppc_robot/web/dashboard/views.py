"""The landing page after login."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ppc_robot.lib.dashboard import dashboard_summary
from ppc_robot.web.access import require_login
from ppc_robot.web.extensions import db

bp = Blueprint("dashboard", __name__)
bp.before_request(require_login)


@bp.route("/")
def index() -> ResponseReturnValue:
    summary = dashboard_summary(db.session(), current_user)
    return render_template("dashboard/index.html", summary=summary)
