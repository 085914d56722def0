"""The knowledge base: what each notification type means and what to do (public pages)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from ppc_robot.lib.notifications import BY_KEY, CATEGORY_NAMES, TYPES

bp = Blueprint("help", __name__, url_prefix="/help")


@bp.route("/notifications/")
def notifications() -> ResponseReturnValue:
    by_category = {number: [t for t in TYPES if t.category == number] for number in sorted(CATEGORY_NAMES)}
    return render_template("help/notifications.html", by_category=by_category)


@bp.route("/notifications/<int:category>/<int:code>")
def notification_type(category: int, code: int) -> ResponseReturnValue:
    kind = BY_KEY.get((category, code))
    if kind is None:
        abort(404)
    return render_template("help/notification_type.html", kind=kind)
