"""Job pages: the editor, the job page, duplicate, detach, delete and bulk actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ppc_robot.lib.alerts.restatements import moved_runs
from ppc_robot.lib.folders import ancestors, folder_tree
from ppc_robot.lib.form_lists import LIST_EDIT, edited_formdata
from ppc_robot.lib.jobs import (
    DefinitionSettings,
    JobError,
    JobSettings,
    accounts_of_job,
    accounts_warning,
    client_account_choices,
    client_choices,
    definition_job_count,
    definitions_with_jobs,
    delete_job,
    detach_job,
    duplicate_job,
    job_with_parts,
    login_choices,
    move_jobs,
    save_job,
    set_jobs_enabled,
    tag_jobs,
    untag_jobs,
    user_tags,
)
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    Folder,
    Job,
    JobDefinition,
    JobLevel,
    OutputType,
    ScheduleKind,
    ServiceAccount,
    Tag,
)
from ppc_robot.lib.reports import (
    ParametersError,
    ReportError,
    ReportType,
    current_parameters,
    describe_definition,
    get_report_type,
    report_types,
    validate_form,
)
from ppc_robot.lib.reports.shared.google_sheet import job_spreadsheet
from ppc_robot.lib.runs import latest_successful_run, preview_of, runs_of_job
from ppc_robot.lib.schedules import (
    JobSchedule,
    ScheduleError,
    SchedulePreview,
    normalise_schedule,
    preview_schedule,
)
from ppc_robot.web.access import owned, owned_all, require_login
from ppc_robot.web.extensions import db
from ppc_robot.web.i18n import current_locale, refusal, say, translate_errors, translate_form
from ppc_robot.web.jobs.forms import (
    NEW_DEFINITION,
    NOTHING_CHOSEN,
    OUTPUT_TYPES,
    ConfirmForm,
    JobBulkForm,
    JobForm,
    ScheduleForm,
)
from ppc_robot.web.queue import runner_settings
from ppc_robot.web.safety import safe_next

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
bp.before_request(require_login)

PARAMS_PREFIX = "params-"
SCHEDULE_FIELDS = {"kind": "schedule_kind", "minute": "schedule_minute", "time": "schedule_time",
                   "weekdays": "schedule_weekdays", "day": "schedule_day", "cron": "schedule_cron",
                   "time_zone": "time_zone"}


@bp.route("/new/<int:folder_id>", methods=["GET", "POST"])
def create(folder_id: int) -> ResponseReturnValue:
    return _editor(None, owned(Folder, folder_id))


@bp.route("/<int:job_id>/edit", methods=["GET", "POST"])
def edit(job_id: int) -> ResponseReturnValue:
    job = owned(Job, job_id)
    return _editor(job, job.folder)


@bp.route("/<int:job_id>")
def show(job_id: int) -> ResponseReturnValue:
    job = job_with_parts(db.session(), owned(Job, job_id).id, current_user)
    assert job is not None
    schedule = JobSchedule.of(job)
    definition = describe_definition(job.definition.task_type, job.definition.task_type_version,
                                     job.definition.parameters, current_locale())
    preview = _preview(schedule)
    accounts = accounts_of_job(db.session(), job)
    return render_template(
        "jobs/show.html", job=job, definition=definition, output_types=dict(OUTPUT_TYPES),
        schedule_words=preview.words, runs=preview.runs if job.is_enabled else [],
        accounts=accounts, accounts_warning=accounts_warning(accounts),
        sharing=definition_job_count(db.session(), job.definition),
        path=_path(job.folder), form=ConfirmForm(), spreadsheet=job_spreadsheet(job),
        **_run_history(job),
    )


def _run_history(job: Job) -> dict[str, Any]:
    session = db.session()
    latest = latest_successful_run(session, job)
    outputs = runner_settings(current_app).outputs_dir  # type: ignore[arg-type]
    history = runs_of_job(session, job, limit=20)
    return {"history": history, "latest": latest, "moved": moved_runs(session, [r.id for r in history]),
            "preview": preview_of(outputs, latest) if latest else None}


@bp.route("/<int:job_id>/duplicate", methods=["POST"])
def duplicate(job_id: int) -> ResponseReturnValue:
    job = owned(Job, job_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".show", job_id=job.id))
    copy = duplicate_job(db.session(), job)
    db.session.commit()
    flash(_('“%(name)s” created, disabled until you check it.', name=copy.name), "success")
    return redirect(url_for(".edit", job_id=copy.id))


@bp.route("/<int:job_id>/detach", methods=["POST"])
def detach(job_id: int) -> ResponseReturnValue:
    job = owned(Job, job_id)
    if ConfirmForm().validate_on_submit():
        try:
            detach_job(db.session(), job)
        except JobError as exc:
            db.session.rollback()
            flash(refusal(exc), "warning")
        else:
            db.session.commit()
            flash(_("The job now has its own copy of the definition."), "success")
    return redirect(url_for(".show", job_id=job.id))


@bp.route("/<int:job_id>/delete", methods=["GET", "POST"])
def delete(job_id: int) -> ResponseReturnValue:
    job = owned(Job, job_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        folder_id, name = job.folder_id, job.name
        delete_job(db.session(), job)
        db.session.commit()
        flash(_('Job “%(name)s” deleted.', name=name), "success")
        return redirect(url_for("folders.show", folder_id=folder_id))
    return render_template("jobs/delete.html", job=job, form=form, path=_path(job.folder))


@bp.route("/bulk", methods=["POST"])
def bulk() -> ResponseReturnValue:
    session = db.session()
    form = JobBulkForm()
    jobs = owned_all(Job, form.job_ids.data or [])
    tag = owned(Tag, form.tag_id.data) if form.tag_id.data else None
    target = owned(Folder, form.target_id.data) if form.target_id.data else None
    tags = user_tags(session, current_user)
    form.tag_id.choices = [(t.id, t.name) for t in tags]
    form.target_id.choices = [(f.id, "\u2003" * d + f.name) for f, d in folder_tree(session, current_user)]
    back = safe_next(form.next.data, url_for("folders.index"))
    if form.validate_on_submit():
        action = form.action.data
        if not jobs:
            form.job_ids.errors.append(_("Select at least one job."))
        elif action in ("tag", "untag") and tag is None:
            form.tag_id.errors.append(_("Choose a tag."))
        elif action == "move" and target is None:
            html = render_template("jobs/bulk.html", form=form, jobs=jobs, back=back)
            return html, 200
        else:
            try:
                message = _apply_bulk(action, jobs, tag, target)
            except JobError as exc:
                db.session.rollback()
                form.job_ids.errors.append(refusal(exc))
            else:
                db.session.commit()
                flash(message, "success")
                return redirect(back)
    html = render_template("jobs/bulk.html", form=form, jobs=jobs, back=back)
    return html, 422


def _apply_bulk(action: str, jobs: list[Job], tag: Tag | None, target: Folder | None) -> str:
    session = db.session()
    count = len(jobs)
    if action == "move":
        assert target is not None
        move_jobs(session, jobs, target)
        return ngettext("%(num)d job moved into “%(name)s”.", "%(num)d jobs moved into “%(name)s”.",
                        count, name=target.name)
    if action == "tag":
        assert tag is not None
        tag_jobs(session, jobs, tag)
        return ngettext("%(num)d job tagged “%(name)s”.", "%(num)d jobs tagged “%(name)s”.",
                        count, name=tag.name)
    if action == "untag":
        assert tag is not None
        untag_jobs(session, jobs, tag)
        return ngettext("Tag “%(name)s” removed from %(num)d job.",
                        "Tag “%(name)s” removed from %(num)d jobs.", count, name=tag.name)
    set_jobs_enabled(session, jobs, action == "enable")
    if action == "enable":
        return ngettext("%(num)d job enabled.", "%(num)d jobs enabled.", count)
    return ngettext("%(num)d job disabled.", "%(num)d jobs disabled.", count)


@bp.route("/schedule-preview")
def schedule_preview() -> ResponseReturnValue:
    """The editor's live preview: the schedule fields' words and next runs, as a fragment.

    Reads only the query string and writes nothing. Input the editor would refuse answers
    200 too, with the message the editor shows beside that field: the preview worked, and
    what it shows is why the schedule cannot run.
    """
    form = ScheduleForm(request.args)
    if not form.validate():
        return render_template("jobs/_schedule_preview.html", error=form.schedule_errors()[0])
    try:
        plan = form.schedule()
        schedule = normalise_schedule(plan.kind, plan.params, plan.time_zone)
    except ScheduleError as exc:
        error = (SCHEDULE_FIELDS.get(exc.field, "schedule_kind"), refusal(exc))
        return render_template("jobs/_schedule_preview.html", error=error)
    return render_template("jobs/_schedule_preview.html", preview=_preview(schedule))


def _preview(schedule: JobSchedule) -> SchedulePreview:
    """The schedule in words and its next five runs, the user's own time beside each."""
    return preview_schedule(schedule, current_user.time_zone, datetime.now(UTC),
                            locale=current_locale())


def _path(folder: Folder) -> Any:
    return ancestors(db.session(), folder)


@dataclass
class _Editor:
    """One request of the job editor: the forms, what was chosen, and what to show back."""

    job: Job | None
    folder: Folder
    form: JobForm
    report_type: ReportType
    params_form: Any
    chosen: JobDefinition | None = None
    accounts: list[ClientAccount] = field(default_factory=list)
    service_account: ServiceAccount | None = None
    client: Client | None = None
    tags: list[Tag] = field(default_factory=list)
    param_errors: list[str] = field(default_factory=list)
    preview: SchedulePreview | None = None

    @property
    def is_attaching(self) -> bool:
        """True when the job moves to another existing definition (its parameters then rule)."""
        return self.chosen is not None and (self.job is None or self.chosen.id != self.job.definition_id)


def _editor(job: Job | None, folder: Folder) -> ResponseReturnValue:
    session = db.session()
    definitions = definitions_with_jobs(session, current_user)
    accounts = client_account_choices(session, current_user)
    logins, clients = login_choices(session, current_user), client_choices(session, current_user)
    form = JobForm(folder_tree(session, current_user), definitions, accounts,
                   user_tags(session, current_user), logins, clients,
                   data=_initial_data(job, folder))
    editor = _Editor(job, folder, form, report_types()[0], None)
    if request.method == "POST":
        _resolve_posted_ids(editor)
    editor.report_type = _report_type(form, job)
    # A list's own buttons (add, remove, reorder a repeated sub-form) only redraw the page.
    list_edit = request.form.get(LIST_EDIT) if request.method == "POST" else None
    formdata = request.form if request.method == "POST" else None
    editor.params_form = editor.report_type.form(
        formdata=edited_formdata(request.form, list_edit) if list_edit else formdata,
        parameters=_stored_parameters(job, editor.report_type), prefix=PARAMS_PREFIX,
    )
    translate_form(editor.params_form)
    if request.method == "GET":
        shown = JobSchedule.of(job) if job is not None else JobSchedule(
            ScheduleKind.MANUAL, {}, form.time_zone.data or "UTC")
        editor.preview = _preview(shown)
    if not list_edit and form.validate_on_submit():
        saved = _submit(editor)
        if saved is not None:
            flash(_('Job “%(name)s” saved.', name=saved.name), "success")
            warning = accounts_warning(accounts_of_job(session, saved))
            if warning:
                flash(say(warning), "warning")
            return redirect(url_for(".show", job_id=saved.id))
    elif request.method == "POST" and not editor.is_attaching and not list_edit:
        editor.params_form.validate()  # its messages show beside the job form's own
    sharing = None
    if job is not None:
        sharing = next((u for u in definitions if u.definition.id == job.definition_id), None)
    refused = bool(form.errors or editor.params_form.errors or editor.param_errors)
    translate_errors(editor.params_form)
    html = render_template(
        "jobs/edit.html", form=form, params_form=editor.params_form,
        param_errors=editor.param_errors, job=job, folder=editor.folder,
        path=_path(editor.folder), report_type=editor.report_type, accounts=accounts,
        definitions=definitions,
        sharing=sharing, preview=editor.preview, logins=logins, clients=clients,
        account_tags=sorted({t for a in accounts for t in a.tags}, key=lambda t: t.name.lower()),
        platforms=sorted({a.service_account.platform for a in accounts}),
    )
    return html, 422 if refused else 200


def _resolve_posted_ids(editor: _Editor) -> None:
    """Every id the form sent, through owned(): another user's id anywhere answers 404."""
    ids = editor.form.posted_ids()
    if ids["folder"]:
        editor.folder = owned(Folder, ids["folder"][0])
    if ids["definition"]:
        editor.chosen = owned(JobDefinition, ids["definition"][0])
    editor.accounts = owned_all(ClientAccount, ids["accounts"])
    editor.tags = owned_all(Tag, ids["tags"])
    if ids["service_account"]:
        editor.service_account = owned(ServiceAccount, ids["service_account"][0])
    if ids["client"]:
        editor.client = owned(Client, ids["client"][0])


def _submit(editor: _Editor) -> Job | None:
    """Save the job (or only preview its schedule); refusals land beside their fields."""
    form = editor.form
    settings = JobSettings(
        name=form.name.data, folder=editor.folder, schedule=form.schedule(),
        client_accounts=editor.accounts, tags=editor.tags,
        level=JobLevel(form.level.data), service_account=editor.service_account,
        client=editor.client,
        output_path=form.output_path.data or "", is_enabled=form.is_enabled.data,
        email_recipients=form.recipients(current_user.email),
    )
    try:
        definition_settings = None
        if not editor.is_attaching:
            posted = {k[len(PARAMS_PREFIX):] for k in request.form if k.startswith(PARAMS_PREFIX)}
            definition_settings = DefinitionSettings(
                task_type=editor.report_type.name,
                parameters=validate_form(editor.report_type, editor.params_form,
                                         posted_names=posted),
                output_type=OutputType(form.output_type.data),
                name=form.definition_name.data or "",
            )
        if "preview" in request.form:
            plan = settings.schedule
            editor.preview = _preview(normalise_schedule(plan.kind, plan.params, plan.time_zone))
            return None
        saved = save_job(db.session(), current_user, settings, job=editor.job,
                         definition=editor.chosen, definition_settings=definition_settings)
        db.session.commit()
        return saved
    except ScheduleError as exc:
        db.session.rollback()
        getattr(form, SCHEDULE_FIELDS.get(exc.field, "schedule_kind")).errors.append(refusal(exc))
    except JobError as exc:
        db.session.rollback()
        getattr(form, exc.field if hasattr(form, exc.field) else "name").errors.append(refusal(exc))
    except ParametersError as exc:
        db.session.rollback()
        editor.param_errors = exc.errors.get("", [])
    except ReportError as exc:
        db.session.rollback()
        form.task_type.errors.append(refusal(exc))
    return None


def _initial_data(job: Job | None, folder: Folder) -> dict[str, Any]:
    if job is None:
        return {
            "folder_id": folder.id, "definition_id": NEW_DEFINITION,
            "task_type": request.args.get("type") or report_types()[0].name,
            "time_zone": current_user.time_zone, "schedule_kind": "manual",
            "is_enabled": True, "schedule_time": "07:00", "schedule_minute": 0,
            "schedule_day": 1, "level": JobLevel.CLIENT_ACCOUNT.value,
            "service_account_id": NOTHING_CHOSEN, "client_id": NOTHING_CHOSEN,
            "email_output": False, "email_recipients": current_user.email,
        }
    params = job.schedule or {}
    return {
        "name": job.name, "folder_id": job.folder_id, "definition_id": job.definition_id,
        "definition_name": job.definition.name, "task_type": job.definition.task_type,
        "output_type": job.definition.output_type.value, "output_path": job.output_path,
        "client_account_ids": [a.id for a in job.client_accounts],
        # A job reads the chosen accounts unless told to read all of its login or client.
        "level": (job.level if job.all_client_accounts else JobLevel.CLIENT_ACCOUNT).value,
        "service_account_id": job.service_account_id or NOTHING_CHOSEN,
        "client_id": job.client_id or NOTHING_CHOSEN,
        "tag_ids": [t.id for t in job.tags], "schedule_kind": job.schedule_kind.value,
        "schedule_minute": params.get("minute", 0), "schedule_time": params.get("time", "07:00"),
        "schedule_weekdays": params.get("weekdays", []), "schedule_day": params.get("day", 1),
        "schedule_cron": params.get("cron", ""), "time_zone": job.time_zone,
        "is_enabled": job.is_enabled, "email_output": bool(job.email_recipients),
        "email_recipients": "\n".join(job.email_recipients or [current_user.email]),
    }


def _report_type(form: JobForm, job: Job | None) -> ReportType:
    try:
        return get_report_type(form.task_type.data or "")
    except ReportError as exc:
        if request.method == "POST":
            form.task_type.errors = [*form.task_type.errors, str(exc)]
        if job is not None:
            try:
                return get_report_type(job.definition.task_type)
            except ReportError:
                pass
        return report_types()[0]


def _stored_parameters(job: Job | None, report_type: ReportType) -> dict[str, Any]:
    if job is not None and job.definition.task_type == report_type.name:
        try:
            definition = job.definition
            return current_parameters(
                definition.task_type, definition.task_type_version, definition.parameters
            )
        except ReportError:
            pass
    return report_type.default_parameters()
