"""Jobs and their definitions. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.limits import (
    PlanLimitError,
    check_job_limit,
    check_schedule_interval,
    schedule_interval_minutes,
)
from ppc_robot.lib.models import Folder, Job, JobDefinition, OutputType, ScheduleKind, Tag


class JobError(PpcRobotError):
    """A job cannot be created or changed as asked; the message is for the user."""


def jobs_in_folder(session: Session, folder: Folder) -> Sequence[Job]:
    """The folder's own jobs by name, with their tags and definitions (a fixed number of queries)."""
    stmt = (
        select(Job)
        .where(Job.folder_id == folder.id)
        .options(selectinload(Job.tags), selectinload(Job.definition))
        .order_by(Job.name)
    )
    return session.scalars(stmt).all()


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
    """A new definition owned by the user."""
    definition = JobDefinition(
        user_id=user_id,
        name=name,
        task_type=task_type,
        task_type_version=version,
        output_type=output_type,
        parameters=dict(parameters or {}),
    )
    session.add(definition)
    session.flush()
    return definition


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
) -> Job:
    """A job in `folder` running `definition`.

    Raises JobError on a bad name, foreign parts, or when the user's plan does not allow
    another job or so frequent a schedule.
    """
    name = (name or "").strip()
    if not name:
        raise JobError("Give the job a name.")
    if definition.user_id != folder.user_id or any(t.user_id != folder.user_id for t in tags):
        raise JobError("Use your own definition and tags.")
    try:
        check_job_limit(session, folder.user_id)
        interval = schedule_interval_minutes(schedule_kind, dict(schedule or {}))
        check_schedule_interval(session, folder.user_id, interval)
    except PlanLimitError as exc:
        raise JobError(str(exc)) from exc
    job = Job(
        user_id=folder.user_id,
        folder_id=folder.id,
        definition_id=definition.id,
        name=name,
        schedule_kind=schedule_kind,
        schedule=dict(schedule or {}),
        time_zone=time_zone,
        output_path=output_path,
    )
    job.tags = list(tags)
    session.add(job)
    session.flush()
    return job
