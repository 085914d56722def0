"""The definitions page: each definition with the jobs that share it."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ppc_robot.lib.jobs import definitions_with_jobs
from ppc_robot.lib.reports import report_types
from ppc_robot.web.access import require_login
from ppc_robot.web.extensions import db

bp = Blueprint("definitions", __name__, url_prefix="/definitions")
bp.before_request(require_login)


@bp.route("/")
def index() -> ResponseReturnValue:
    uses = definitions_with_jobs(db.session(), current_user)
    labels = {t.name: t.label for t in report_types()}
    return render_template(
        "definitions/index.html",
        shared=[u for u in uses if u.is_shared],
        single=[u for u in uses if not u.is_shared],
        labels=labels,
    )
