"""Runs: run now, a run's page with live progress, its preview, log and download."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ppc_robot.lib.models import Job, JobRun, OutputDelivery, RunStatus, utcnow
from ppc_robot.lib.output_delivery import deliveries_of_run, revoke_link
from ppc_robot.lib.reports.url_checker_store import url_check_summary
from ppc_robot.lib.runs import RunError, output_path, preview_of, request_run
from ppc_robot.web.access import owned, require_login
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import refusal
from ppc_robot.web.queue import enqueue_run, runner_settings
from ppc_robot.web.runs.forms import RevokeLinkForm

bp = Blueprint("runs", __name__, url_prefix="/runs")
bp.before_request(require_login)

FINISHED = {RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED, RunStatus.CANCELLED}


def _outputs_dir() -> Path:
    return runner_settings(current_app).outputs_dir  # type: ignore[arg-type]


@bp.route("/job/<int:job_id>", methods=["POST"])
def run_now(job_id: int) -> ResponseReturnValue:
    job = owned(Job, job_id)
    try:
        run = request_run(db.session(), job)
    except RunError as exc:
        flash(refusal(exc), "warning")
        return redirect(url_for("jobs.show", job_id=job.id))
    db.session.commit()
    enqueue_run(run.id)
    flash(_('“%(name)s” is queued to run now.', name=job.name), "success")
    return redirect(url_for(".show", run_id=run.id))


@bp.route("/<int:run_id>")
def show(run_id: int) -> ResponseReturnValue:
    run = owned(JobRun, run_id)
    outputs = _outputs_dir()
    return render_template("runs/show.html", run=run, job=run.job, finished=run.status in FINISHED,
                           preview=preview_of(outputs, run),
                           downloadable=output_path(run, outputs) is not None,
                           deliveries=deliveries_of_run(db.session(), run),
                           revoke_form=RevokeLinkForm(), now=utcnow(),
                           url_checks=url_check_summary(db.session(), run.id))


@bp.route("/mail/<int:output_delivery_id>/revoke", methods=["POST"])
def revoke(output_delivery_id: int) -> ResponseReturnValue:
    delivery = owned(OutputDelivery, output_delivery_id)
    if RevokeLinkForm().validate_on_submit():
        revoke_link(db.session(), delivery)
        db.session.commit()
        flash(_("The download link sent to %(recipient)s no longer works.",
                recipient=delivery.recipient), "success")
    return redirect(url_for(".show", run_id=delivery.run_id))


@bp.route("/<int:run_id>/status")
def status(run_id: int) -> ResponseReturnValue:
    run = owned(JobRun, run_id)
    waits = run.next_attempt_at.isoformat() if run.next_attempt_at else None
    return jsonify(status=run.status.value, done=run.progress_done, total=run.progress_total,
                   finished=run.status in FINISHED, partial=run.status is RunStatus.PARTIAL,
                   error=run.error_message, next_attempt_at=waits)


@bp.route("/<int:run_id>/download")
def download(run_id: int) -> ResponseReturnValue:
    run = owned(JobRun, run_id)
    path = output_path(run, _outputs_dir())
    if path is None:
        abort(404)
    # The stored name starts with the run id; the visitor gets the readable part.
    name = path.name.split("-", 1)[1] if "-" in path.name else path.name
    return send_file(path, as_attachment=True, download_name=name)
