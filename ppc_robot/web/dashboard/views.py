"""The landing page after login."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ppc_robot.lib.dashboard import dashboard_summary
from ppc_robot.lib.runs import dashboard_runs
from ppc_robot.web.access import require_login
from ppc_robot.web.extensions import db
from ppc_robot.web.queue import runner_settings

bp = Blueprint("dashboard", __name__)
bp.before_request(require_login)


@bp.route("/")
def index() -> ResponseReturnValue:
    session = db.session()
    summary = dashboard_summary(session, current_user)
    grace = timedelta(seconds=runner_settings(current_app).start_grace_seconds)  # type: ignore[arg-type]
    runs = dashboard_runs(session, current_user.id, grace=grace)
    return render_template("dashboard/index.html", summary=summary, runs=runs)
