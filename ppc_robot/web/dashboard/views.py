"""The landing page after login."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ppc_robot.lib.client_accounts import client_account_tags_of
from ppc_robot.lib.dashboard import TableCache, dashboard_summary, performance_table
from ppc_robot.lib.models import utcnow
from ppc_robot.lib.pacing import local_today
from ppc_robot.lib.runs import dashboard_runs
from ppc_robot.lib.times import zone_of
from ppc_robot.web.access import require_login
from ppc_robot.web.dashboard.rows import (
    performance_body,
    performance_rows,
    performance_table_rows,
)
from ppc_robot.web.extensions import db
from ppc_robot.web.queue import runner_settings

bp = Blueprint("dashboard", __name__)
bp.before_request(require_login)
bp.add_app_template_global(performance_rows)
bp.add_app_template_global(performance_table_rows)
bp.add_app_template_global(performance_body)


def table_cache() -> TableCache:
    """The app's cache of computed dashboard tables (one per app and process)."""
    return current_app.extensions.setdefault("ppc_robot.dashboard_tables", TableCache())


@bp.route("/")
def index() -> ResponseReturnValue:
    session = db.session()
    summary = dashboard_summary(session, current_user)
    grace = timedelta(seconds=runner_settings(current_app).start_grace_seconds)  # type: ignore[arg-type]
    runs = dashboard_runs(session, current_user.id, grace=grace)
    tags = client_account_tags_of(session, current_user)
    tag_id = request.args.get("tag", type=int)
    tag = next((t for t in tags if t.id == tag_id), None)  # only the user's own tags filter
    now = utcnow()
    table = performance_table(session, current_user, local_today(now, zone_of(current_user.time_zone)),
                              now, tag_id=tag.id if tag else None, sort=request.args.get("sort"),
                              cache=table_cache())
    return render_template("dashboard/index.html", summary=summary, runs=runs, table=table,
                           tags=tags, tag=tag, tag_choices=[(t.id, t.name, t.colour) for t in tags])
