"""The scheduler tick: one run per (job, scheduled time), however many schedulers tick.

Missed runs after downtime are coalesced: a job that missed several times gets one catch-up
run for the latest missed time, never a flood. The unique key (job_id, scheduled_at) makes a
repeated or concurrent tick harmless; the job's next run only moves forward from the value
this tick read, so two schedulers never both advance it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ppc_robot.lib.models import Job, JobRun, RunStatus, RunTrigger, ScheduleKind, utcnow
from ppc_robot.lib.runner.lifecycle import is_due
from ppc_robot.lib.schedules import JobSchedule, next_run_after

logger = logging.getLogger(__name__)

NextRun = Callable[[Job, datetime], datetime | None]
MAX_CATCH_UP_STEPS = 100_000


def _default_next_run(job: Job, after: datetime) -> datetime | None:
    return next_run_after(JobSchedule.of(job), after)


@dataclass(frozen=True)
class TickResult:
    run_ids: list[int]
    jobs_seen: int


def _insert_ignoring_duplicates(session: Session):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(JobRun).on_conflict_do_nothing(index_elements=["job_id", "scheduled_at"])


def schedule_due_runs(
    session: Session, *, now: datetime | None = None, batch: int = 20_000,
    next_run: NextRun = _default_next_run,
) -> TickResult:
    """Record the due runs of every enabled scheduled job and advance their next run.

    Returns the ids of the runs this tick created (to hand to the queue). Does not commit.
    """
    now = now or utcnow()
    jobs = session.scalars(
        select(Job)
        .where(Job.is_enabled.is_(True), Job.next_run_at <= now,
               Job.schedule_kind != ScheduleKind.MANUAL)
        .order_by(Job.next_run_at)
        .limit(batch)
    ).all()
    new_runs: list[dict[str, object]] = []
    advances: list[dict[str, object]] = []
    for job in jobs:
        scheduled = job.next_run_at
        assert scheduled is not None
        following = next_run(job, scheduled)
        trigger = RunTrigger.SCHEDULE
        steps = 0
        while following is not None and following <= now and steps < MAX_CATCH_UP_STEPS:
            scheduled, following = following, next_run(job, following)
            trigger = RunTrigger.CATCH_UP
            steps += 1
        new_runs.append({"job_id": job.id, "user_id": job.user_id, "scheduled_at": scheduled,
                         "trigger": trigger, "status": RunStatus.QUEUED, "attempt": 0,
                         "created_at": now, "progress_done": 0, "progress_total": 0, "log": ""})
        advances.append({"job": job.id, "seen": job.next_run_at, "following": following})
    if not jobs:
        return TickResult([], 0)
    statement = _insert_ignoring_duplicates(session).returning(JobRun.id)
    run_ids = list(session.scalars(statement, new_runs))
    session.execute(
        update(Job.__table__)
        .where(Job.__table__.c.id == bindparam("job"),
               Job.__table__.c.next_run_at == bindparam("seen"))
        .values(next_run_at=bindparam("following")),
        advances,
    )
    logger.info("scheduler tick: %s due jobs, %s new runs", len(jobs), len(run_ids))
    return TickResult(run_ids, len(jobs))


def runs_to_dispatch(session: Session, *, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Runs that should be in a queue: queued ones that are due (not waiting for a quota
    window), and running ones whose lease expired."""
    now = now or utcnow()
    queued = select(JobRun.id).where(JobRun.status == RunStatus.QUEUED, is_due(now))
    stalled = select(JobRun.id).where(JobRun.status == RunStatus.RUNNING,
                                      JobRun.lease_expires_at < now)
    return list(session.scalars(queued.union_all(stalled).limit(limit)))


def overdue_runs(
    session: Session, *, start_grace: timedelta, run_timeout: timedelta, now: datetime | None = None,
) -> list[JobRun]:
    """Runs that never started within the grace period, or never finished within the timeout."""
    now = now or utcnow()
    # A run waiting for a quota window is late only once that window has passed.
    due_at = func.coalesce(JobRun.next_attempt_at, JobRun.scheduled_at)
    not_started = (JobRun.status == RunStatus.QUEUED) & (due_at < now - start_grace)
    not_finished = (JobRun.status == RunStatus.RUNNING) & (JobRun.started_at < now - run_timeout)
    return list(session.scalars(select(JobRun).where(not_started | not_finished)))
