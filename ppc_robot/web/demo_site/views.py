"""The demo site (public pages): a small shop the Sandbox's ads link to, with the problems a URL
checker should find — its pages are listed in ppc_robot.lib.demo_site."""

from __future__ import annotations

import time

from flask import Blueprint, abort, redirect, render_template
from flask.typing import ResponseReturnValue

from ppc_robot.lib.demo_site import BY_PATH, DEMO_SITE_PREFIX

bp = Blueprint("demo_site", __name__, url_prefix=DEMO_SITE_PREFIX)


@bp.route("/")
def home() -> ResponseReturnValue:
    return page("")


@bp.route("/<path:path>")
def page(path: str) -> ResponseReturnValue:
    demo = BY_PATH.get("/" + path.strip("/"))
    if demo is None:
        abort(404)
    if demo.delay:
        time.sleep(demo.delay)  # the slow page: slow on purpose
    if demo.location:
        return redirect(DEMO_SITE_PREFIX + demo.location, code=demo.status)
    html = render_template("demo_site/page.html", page=demo, prefix=DEMO_SITE_PREFIX)
    return html, demo.status
