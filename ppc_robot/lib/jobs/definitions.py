"""Job definitions: the report type, output type and parameters that jobs share.

A definition belongs to one user and may be shared by several of his jobs; changing it
reaches every job using it. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Job, JobDefinition, OutputType, User
from ppc_robot.lib.models.jobs import DEFINITION_NAME_MAX
from ppc_robot.lib.names import free_name, names_checked, same_name
from ppc_robot.lib.reports import get_report_type, validate_parameters


class JobError(PpcRobotError):
    """A job cannot be created or changed as asked; `field` names the part at fault."""

    def __init__(self, message: str, *, field: str = "name", **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


@dataclass
class DefinitionSettings:
    """What a definition holds: report type, output type, parameters (current version)."""

    task_type: str
    parameters: dict[str, Any]
    output_type: OutputType = OutputType.XLSX
    name: str = ""


def definition_clash(name: str) -> JobError:
    return JobError(N_("A definition called “%(name)s” already exists; choose another name."),
                    field="definition_name", name=name)


def refuse_definition_clash(session: Session, user_id: int, name: str,
                             ignore_id: int | None = None) -> None:
    clash = select(JobDefinition.id).where(
        JobDefinition.user_id == user_id, same_name(JobDefinition.name, name))
    if ignore_id is not None:
        clash = clash.where(JobDefinition.id != ignore_id)
    if name and session.scalar(clash) is not None:
        raise definition_clash(name)


def free_definition_name(session: Session, user_id: int, name: str) -> str:
    """A name derived from a job's (the user typed none): numbered when already taken."""
    name = name.strip()[:DEFINITION_NAME_MAX]
    if not name:
        return ""
    stem = name[: DEFINITION_NAME_MAX - 6].lower()
    taken = session.scalars(select(JobDefinition.name).where(
        JobDefinition.user_id == user_id, func.lower(JobDefinition.name).startswith(stem,
                                                                                     autoescape=True)))
    return free_name(taken, name, DEFINITION_NAME_MAX)


def create_definition(
    session: Session,
    user_id: int,
    task_type: str,
    *,
    version: int = 1,
    output_type: OutputType = OutputType.XLSX,
    parameters: dict[str, Any] | None = None,
    name: str = "",
) -> JobDefinition:
    """A new definition owned by the user, stored as given (callers validate).

    Raises JobError (field definition_name) when another of his definitions has the name.
    """
    name = name.strip()[:DEFINITION_NAME_MAX]
    refuse_definition_clash(session, user_id, name)
    definition = JobDefinition(
        user_id=user_id,
        name=name,
        task_type=task_type,
        task_type_version=version,
        output_type=output_type,
        parameters=dict(parameters or {}),
    )
    with names_checked(session, definition_clash(name)):
        session.add(definition)
    return definition


def checked_definition(settings: DefinitionSettings) -> dict[str, Any]:
    report_type = get_report_type(settings.task_type)
    return validate_parameters(report_type, settings.parameters)


def update_definition(
    session: Session, definition: JobDefinition, settings: DefinitionSettings
) -> JobDefinition:
    """Change a definition; every job sharing it runs with the change from now on.

    Raises ReportError for an unknown type, ParametersError for refused parameters and
    JobError (field definition_name) for a name another definition has.
    """
    parameters = checked_definition(settings)
    name = settings.name.strip()[:DEFINITION_NAME_MAX]
    refuse_definition_clash(session, definition.user_id, name, ignore_id=definition.id)
    with names_checked(session, definition_clash(name)):
        definition.task_type = settings.task_type
        definition.task_type_version = get_report_type(settings.task_type).version
        definition.output_type = settings.output_type
        definition.parameters = parameters
        if name:
            definition.name = name
    return definition


def definition_job_count(session: Session, definition: JobDefinition) -> int:
    """How many jobs use the definition."""
    stmt = select(func.count()).select_from(Job).where(Job.definition_id == definition.id)
    return session.scalar(stmt) or 0


def copy_definition(session: Session, definition: JobDefinition, name: str) -> JobDefinition:
    return create_definition(
        session,
        definition.user_id,
        definition.task_type,
        version=definition.task_type_version,
        output_type=definition.output_type,
        parameters=dict(definition.parameters),
        name=free_definition_name(session, definition.user_id, name),
    )


@dataclass(frozen=True)
class DefinitionUse:
    definition: JobDefinition
    jobs: list[Job]

    @property
    def is_shared(self) -> bool:
        return len(self.jobs) > 1


def definitions_with_jobs(
    session: Session, user: User, *, shared_only: bool = False
) -> list[DefinitionUse]:
    """The user's definitions, each with the jobs using it (two queries)."""
    definitions = session.scalars(
        select(JobDefinition)
        .where(JobDefinition.owned_by(user.id))
        .order_by(func.lower(JobDefinition.name), JobDefinition.id)
    ).all()
    jobs = session.scalars(
        select(Job).where(Job.owned_by(user.id)).order_by(func.lower(Job.name), Job.id)
    ).all()
    by_definition: dict[int, list[Job]] = {}
    for job in jobs:
        by_definition.setdefault(job.definition_id, []).append(job)
    uses = [DefinitionUse(d, by_definition.get(d.id, [])) for d in definitions]
    return [u for u in uses if u.is_shared] if shared_only else uses
