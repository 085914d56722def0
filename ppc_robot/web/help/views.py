"""The knowledge base: what each notification type means and what to do (public pages)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from ppc_robot.lib.notifications import BY_KEY, CATEGORY_NAMES, TYPES
from ppc_robot.lib.notifications.translated import translated_type
from ppc_robot.web.i18n import current_locale

bp = Blueprint("help", __name__, url_prefix="/help")


@bp.route("/notifications/")
def notifications() -> ResponseReturnValue:
    locale = current_locale()
    by_category = {number: [translated_type(t, locale) for t in TYPES if t.category == number]
                   for number in sorted(CATEGORY_NAMES)}
    return render_template("help/notifications.html", by_category=by_category)


@bp.route("/notifications/<int:category>/<int:code>")
def notification_type(category: int, code: int) -> ResponseReturnValue:
    kind = BY_KEY.get((category, code))
    if kind is None:
        abort(404)
    return render_template("help/notification_type.html",
                           kind=translated_type(kind, current_locale()))
