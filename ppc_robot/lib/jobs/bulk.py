"""Changes to many jobs at once: move, tag, untag, enable, disable."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.jobs.definitions import JobError
from ppc_robot.lib.limits import PlanLimitError, check_schedule_interval, schedule_interval_minutes
from ppc_robot.lib.models import Folder, Job, Tag, User, jobs_tags
from ppc_robot.lib.schedules import JobSchedule, next_run_after

logger = logging.getLogger(__name__)


def jobs_of_user(session: Session, user: User, job_ids: Iterable[int]) -> list[Job]:
    """The user's jobs with these ids. Raises JobError when any id is not one of his jobs."""
    wanted = set(job_ids)
    if not wanted:
        raise JobError(N_("Select at least one job."), field="job_ids")
    jobs = session.scalars(select(Job).where(Job.id.in_(wanted), Job.owned_by(user.id))).all()
    if len(jobs) != len(wanted):
        raise JobError(N_("Select only your own jobs."), field="job_ids")
    return sorted(jobs, key=lambda j: j.id)


def _check(jobs: Sequence[Job], owner_id: int) -> list[int]:
    if not jobs:
        raise JobError(N_("Select at least one job."), field="job_ids")
    if any(job.user_id != owner_id for job in jobs):
        raise JobError(N_("Select only your own jobs."), field="job_ids")
    return [job.id for job in jobs]


def move_jobs(session: Session, jobs: Sequence[Job], folder: Folder) -> int:
    """Move the jobs into `folder`; returns how many. Raises JobError for foreign parts."""
    ids = _check(jobs, folder.user_id)
    session.execute(
        update(Job).where(Job.id.in_(ids)).values(folder_id=folder.id)
        .execution_options(synchronize_session=False)
    )
    for job in jobs:
        session.expire(job, ["folder_id", "folder"])
    logger.info("%s jobs moved into folder %s (user %s)", len(ids), folder.id, folder.user_id)
    return len(ids)


def tag_jobs(session: Session, jobs: Sequence[Job], tag: Tag) -> int:
    """Add `tag` to the jobs that lack it; returns how many gained it."""
    ids = _check(jobs, tag.user_id)
    tagged = set(session.scalars(
        select(jobs_tags.c.job_id).where(jobs_tags.c.tag_id == tag.id, jobs_tags.c.job_id.in_(ids))
    ))
    missing = [{"job_id": job_id, "tag_id": tag.id} for job_id in ids if job_id not in tagged]
    if missing:
        session.execute(insert(jobs_tags), missing)
    for job in jobs:
        session.expire(job, ["tags"])
    return len(missing)


def untag_jobs(session: Session, jobs: Sequence[Job], tag: Tag) -> int:
    """Remove `tag` from the jobs; returns how many lost it."""
    ids = _check(jobs, tag.user_id)
    result = session.execute(
        jobs_tags.delete().where(jobs_tags.c.tag_id == tag.id, jobs_tags.c.job_id.in_(ids))
    )
    for job in jobs:
        session.expire(job, ["tags"])
    return result.rowcount or 0


def set_jobs_enabled(
    session: Session, jobs: Sequence[Job], is_enabled: bool, *, now: datetime | None = None
) -> int:
    """Enable (next run computed from now) or disable (no next run) the jobs.

    Raises JobError, and changes none of them, when the user's plan forbids the schedule of
    one being enabled, as the editor would.
    """
    if not jobs:
        raise JobError(N_("Select at least one job."), field="job_ids")
    _check(jobs, jobs[0].user_id)
    if is_enabled:
        for job in jobs:
            try:
                check_schedule_interval(session, job.user_id,
                                        schedule_interval_minutes(job.schedule_kind, job.schedule))
            except PlanLimitError as exc:
                raise JobError(N_("“%(name)s” stays off: %(reason)s"), field="job_ids",
                               name=job.name, reason=exc) from exc
    moment = now or datetime.now(UTC)
    for job in jobs:
        job.is_enabled = is_enabled
        job.next_run_at = next_run_after(JobSchedule.of(job), moment) if is_enabled else None
    session.flush()
    return len(jobs)
