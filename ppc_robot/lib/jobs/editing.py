"""Creating, editing, detaching, duplicating and deleting jobs (their definitions: definitions.py)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.jobs.definitions import (
    DefinitionSettings,
    JobError,
    checked_definition,
    copy_definition,
    create_definition,
    definition_job_count,
    free_definition_name,
    refuse_definition_clash,
    update_definition,
)
from ppc_robot.lib.limits import (
    PlanLimitError,
    check_job_limit,
    check_schedule_interval,
    schedule_interval_minutes,
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
    User,
)
from ppc_robot.lib.models.jobs import JOB_NAME_MAX, OUTPUT_PATH_MAX
from ppc_robot.lib.reports import get_report_type, validate_parameters
from ppc_robot.lib.schedules import JobSchedule, next_run_after, normalise_schedule

logger = logging.getLogger(__name__)

FILE_NAME_PLACEHOLDERS = ("job", "date", "account")
_FILE_NAME = re.compile(r"^[\w .,()\-{}]+$")
_SPREADSHEET_ID = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_SPREADSHEET_URL = re.compile(r"^https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]{20,100})")


@dataclass
class JobSettings:
    """What the job editor sets on the job itself.

    The level decides what the job reads: `client_accounts` at the client-account level,
    every account of `service_account` (a login) or of `client` at theirs, resolved at run
    time. Whatever the level does not use is cleared when the job is saved.
    """

    name: str
    folder: Folder
    schedule: JobSchedule = field(default_factory=lambda: JobSchedule(ScheduleKind.MANUAL))
    client_accounts: Sequence[ClientAccount] = ()
    level: JobLevel = JobLevel.CLIENT_ACCOUNT
    service_account: ServiceAccount | None = None
    client: Client | None = None
    tags: Sequence[Tag] = ()
    output_path: str = ""
    is_enabled: bool = True
    # Addresses the finished output is mailed to (lib.output_delivery); None leaves them as they are.
    email_recipients: Sequence[str] | None = None


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def clean_output_path(output_type: OutputType, path: str) -> str:
    """The output path in its stored form. Raises JobError (field output_path) when unusable.

    Files take a name pattern with {job}, {date} and {account}; a Google Sheet takes a
    spreadsheet id or its address (empty: the first run creates the sheet).
    """
    path = (path or "").strip()
    if not path:
        return ""
    if len(path) > OUTPUT_PATH_MAX:
        raise JobError(N_("Keep it to %(count)s characters or fewer."), field="output_path",
                       count=OUTPUT_PATH_MAX)
    if output_type is OutputType.GOOGLE_SHEETS:
        match = _SPREADSHEET_URL.match(path)
        sheet_id = match.group(1) if match else path
        if not _SPREADSHEET_ID.match(sheet_id):
            raise JobError(
                N_("Give the spreadsheet's id or its docs.google.com address, or leave it empty."),
                field="output_path",
            )
        return sheet_id
    if not _FILE_NAME.match(path) or ".." in path:
        raise JobError(
            N_("Use letters, digits, spaces and . , ( ) - _ in the file name, no folders."),
            field="output_path",
        )
    for placeholder in re.findall(r"\{([^}]*)\}", path):
        if placeholder not in FILE_NAME_PLACEHOLDERS:
            raise JobError(
                N_("“%(placeholder)s” is not a placeholder: use {job}, {date} or {account}."),
                field="output_path", placeholder=f"{{{placeholder}}}",
            )
    return path


def _clean_job_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise JobError(N_("Give the job a name."))
    if len(name) > JOB_NAME_MAX:
        raise JobError(N_("Keep the name to %(count)s characters or fewer."), count=JOB_NAME_MAX)
    return name


def _refuse_foreign(user_id: int, *objects: Any) -> None:
    if any(obj is not None and obj.user_id != user_id for obj in objects):
        raise JobError(N_("Use only your own folders, definitions, tags and accounts."))


def _check_level(settings: JobSettings) -> JobLevel:
    """The settings' level, which must come with its login or client (raises JobError)."""
    level = JobLevel(settings.level)
    if level is JobLevel.SERVICE_ACCOUNT and settings.service_account is None:
        raise JobError(N_("Choose the login whose client accounts the job reads."),
                       field="service_account_id")
    if level is JobLevel.CLIENT and settings.client is None:
        raise JobError(N_("Choose the client whose client accounts the job reads."), field="client_id")
    return level


def _set_level(job: Job, level: JobLevel, settings: JobSettings) -> None:
    # The runner reads every account of the login or client when all_client_accounts is set,
    # and the chosen accounts otherwise; what the new level does not use must not linger.
    login = settings.service_account if level is JobLevel.SERVICE_ACCOUNT else None
    client = settings.client if level is JobLevel.CLIENT else None
    job.level = level
    job.service_account_id = login.id if login is not None else None
    job.client_id = client.id if client is not None else None
    job.all_client_accounts = level is not JobLevel.CLIENT_ACCOUNT
    chosen = level is JobLevel.CLIENT_ACCOUNT
    job.client_accounts = list(settings.client_accounts) if chosen else []


def _check_plan(session: Session, user_id: int, plan: JobSchedule, *, new_job: bool) -> None:
    """The user's plan must allow another job and so frequent a schedule (raises JobError)."""
    try:
        if new_job:
            check_job_limit(session, user_id)
        check_schedule_interval(session, user_id, schedule_interval_minutes(plan.kind, dict(plan.params)))
    except PlanLimitError as exc:
        raise JobError(exc.message, **exc.params) from exc


def create_job(
    session: Session,
    folder: Folder,
    definition: JobDefinition,
    name: str,
    *,
    schedule_kind: ScheduleKind = ScheduleKind.MANUAL,
    schedule: dict[str, Any] | None = None,
    time_zone: str = "UTC",
    tags: Sequence[Tag] = (),
    output_path: str = "",
    email_recipients: Sequence[str] = (),
    now: datetime | None = None,
) -> Job:
    """A job in `folder` running `definition`, its next run computed.

    Raises JobError on a bad name or foreign parts, ScheduleError on a bad schedule.
    """
    name = _clean_job_name(name)
    _refuse_foreign(folder.user_id, definition, *tags)
    plan = normalise_schedule(schedule_kind, schedule or {}, time_zone)
    _check_plan(session, folder.user_id, plan, new_job=True)
    job = Job(
        user_id=folder.user_id,
        folder_id=folder.id,
        definition_id=definition.id,
        name=name,
        schedule_kind=plan.kind,
        schedule=dict(plan.params),
        time_zone=plan.time_zone,
        output_path=output_path,
        email_recipients=list(email_recipients),
        is_enabled=True,
        next_run_at=next_run_after(plan, _now(now)),
    )
    job.tags = list(tags)
    session.add(job)
    session.flush()
    return job


def save_job(
    session: Session,
    user: User,
    settings: JobSettings,
    *,
    job: Job | None = None,
    definition: JobDefinition | None = None,
    definition_settings: DefinitionSettings | None = None,
    now: datetime | None = None,
) -> Job:
    """Create a job (no `job`) or change one, all checks first, then every write.

    `definition` None: a new definition from `definition_settings`. Otherwise the job uses
    `definition`, changed by `definition_settings` when given (which reaches every job
    sharing it). Raises JobError, ScheduleError, ReportError or ParametersError.
    """
    name = _clean_job_name(settings.name)
    _refuse_foreign(user.id, settings.folder, *settings.tags, *settings.client_accounts,
                    settings.service_account, settings.client)
    level = _check_level(settings)
    if definition is not None:
        _refuse_foreign(user.id, definition)
    if job is not None:
        _refuse_foreign(user.id, job)
    if definition is None and definition_settings is None:
        raise ValueError("a new definition needs its settings")
    plan = normalise_schedule(
        settings.schedule.kind, settings.schedule.params, settings.schedule.time_zone
    )
    output_type = (
        definition_settings.output_type if definition_settings else definition.output_type  # type: ignore[union-attr]
    )
    output_path = clean_output_path(output_type, settings.output_path)
    if definition_settings is not None:
        checked_definition(definition_settings)
        refuse_definition_clash(session, user.id, definition_settings.name.strip(),
                                 ignore_id=definition.id if definition is not None else None)
    _check_plan(session, user.id, plan, new_job=job is None)

    if definition is None:
        assert definition_settings is not None
        report_type = get_report_type(definition_settings.task_type)
        definition = create_definition(
            session,
            user.id,
            definition_settings.task_type,
            version=report_type.version,
            output_type=definition_settings.output_type,
            parameters=validate_parameters(report_type, definition_settings.parameters),
            name=(definition_settings.name.strip()
                  or free_definition_name(session, user.id, name)),
        )
    elif definition_settings is not None:
        update_definition(session, definition, definition_settings)
    if job is None:
        job = Job(user_id=user.id)
        session.add(job)
    job.name = name
    job.folder_id = settings.folder.id
    job.definition_id = definition.id
    job.schedule_kind = plan.kind
    job.schedule = dict(plan.params)
    job.time_zone = plan.time_zone
    job.output_path = output_path
    job.is_enabled = settings.is_enabled
    job.next_run_at = next_run_after(plan, _now(now)) if settings.is_enabled else None
    job.tags = list(settings.tags)
    if settings.email_recipients is not None:
        job.email_recipients = list(settings.email_recipients)
    _set_level(job, level, settings)
    session.flush()
    logger.info("job %s saved with definition %s (user %s)", job.id, definition.id, user.id)
    return job


def detach_job(session: Session, job: Job) -> JobDefinition:
    """Give the job its own copy of its shared definition; the others keep the original.

    Raises JobError when no other job uses the definition.
    """
    definition = session.get_one(JobDefinition, job.definition_id)
    if definition_job_count(session, definition) <= 1:
        raise JobError(N_("This job already has a definition of its own."), field="definition")
    copy = copy_definition(session, definition, f"{job.name} (own copy)")
    job.definition_id = copy.id
    session.flush()
    session.expire(job, ["definition"])
    logger.info("job %s detached from definition %s (user %s)", job.id, definition.id, job.user_id)
    return copy


def duplicate_job(session: Session, job: Job, *, now: datetime | None = None) -> Job:
    """A copy of the job in the same folder, disabled until the user looks at it.

    A shared definition stays shared by the copy; a job's own definition is copied too.
    """
    definition = session.get_one(JobDefinition, job.definition_id)
    name = _clean_job_name(f"{job.name[: JOB_NAME_MAX - 7]} (copy)")
    _check_plan(session, job.user_id, JobSchedule.of(job), new_job=True)
    if definition_job_count(session, definition) <= 1:
        definition = copy_definition(session, definition, name)
    copy = Job(
        user_id=job.user_id,
        folder_id=job.folder_id,
        definition_id=definition.id,
        name=name,
        level=job.level,
        service_account_id=job.service_account_id,
        client_id=job.client_id,
        all_client_accounts=job.all_client_accounts,
        schedule_kind=job.schedule_kind,
        schedule=dict(job.schedule),
        time_zone=job.time_zone,
        is_enabled=False,
        next_run_at=None,
        output_path="",
        email_recipients=list(job.email_recipients or []),
    )
    tags, accounts = list(job.tags), list(job.client_accounts)
    session.add(copy)
    copy.tags = tags
    copy.client_accounts = accounts
    session.flush()
    return copy


def delete_job(session: Session, job: Job) -> None:
    """Delete the job (its runs go with it) and its definition when nothing else uses it."""
    definition_id = job.definition_id
    session.delete(job)
    session.flush()
    still_used = session.scalar(select(Job.id).where(Job.definition_id == definition_id).limit(1))
    if still_used is None:
        session.execute(delete(JobDefinition).where(JobDefinition.id == definition_id))
    logger.info("job %s deleted (user %s)", job.id, job.user_id)


def client_account_choices(session: Session, user: User) -> Sequence[ClientAccount]:
    """The user's client accounts with their login and tags, for pickers (fixed queries)."""
    stmt = (
        select(ClientAccount)
        .where(ClientAccount.owned_by(user.id))
        .options(joinedload(ClientAccount.service_account), selectinload(ClientAccount.tags))
        .order_by(func.lower(ClientAccount.name), ClientAccount.id)
    )
    return session.scalars(stmt).unique().all()


def job_with_parts(session: Session, job_id: int, user: User) -> Job | None:
    """The user's job with its definition, tags and accounts loaded (the job page)."""
    stmt = (
        select(Job)
        .where(Job.id == job_id, Job.owned_by(user.id))
        .options(
            joinedload(Job.definition),
            selectinload(Job.tags),
            selectinload(Job.client_accounts).joinedload(ClientAccount.service_account),
        )
    )
    return session.scalars(stmt).unique().one_or_none()
