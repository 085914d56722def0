"""The public page behind a mailed output's download link: the file, without logging in.

The token in the address is the only key (signed for this purpose, bound to one delivery, so to
one run's output); its hash is what the database holds. The server logs cut it out of request
lines (web/logs.py), and the answer asks browsers not to pass the address on as a referrer.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, render_template, send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ppc_robot.lib.output_delivery import LinkError, download_name, open_link
from ppc_robot.lib.runs import output_path
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal
from ppc_robot.web.queue import runner_settings

bp = Blueprint("downloads", __name__)
security_log = logging.getLogger("ppc_robot.security")


@bp.route("/output-link/<token>")
def link(token: str) -> ResponseReturnValue:
    try:
        delivery = open_link(db.session(), token, str(current_app.config["SECRET_KEY"]))
    except LinkError as exc:
        if exc.status == 404:
            security_log.info("output link refused: no such link")
            abort(404)
        html = render_template("downloads/gone.html", text=refusal(exc))  # the lib's N_ message
        return html, exc.status, {"Referrer-Policy": "no-referrer"}
    path = output_path(delivery.run, runner_settings(current_app).outputs_dir)  # type: ignore[arg-type]
    if path is None:
        html = render_template("downloads/gone.html",
                               text=_("The report is no longer kept on the server; ask the "
                                      "sender for it again."))
        return html, 410, {"Referrer-Policy": "no-referrer"}
    security_log.info("output link of delivery %s opened (run %s)", delivery.id, delivery.run_id)
    response = send_file(path, as_attachment=True, download_name=download_name(path))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response
