"""Runs as the pages see them: run now, history, previews. Nothing here commits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Job, JobRun, RunStatus, RunTrigger, ScheduleKind, utcnow

PREVIEW_ROWS = 20
CHART_POINTS = 400


class RunError(PpcRobotError):
    """A run cannot be started as asked; the message is for the user."""


def request_run(session: Session, job: Job, *, now: datetime | None = None) -> JobRun:
    """Queue a manual run of `job`; refused while one of its runs is still waiting or running."""
    now = now or utcnow()
    busy = session.scalar(select(JobRun.id).where(
        JobRun.job_id == job.id, JobRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])).limit(1))
    if busy is not None:
        raise RunError(N_("This job is already waiting or running; its result will appear here."))
    run = JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=now, trigger=RunTrigger.MANUAL)
    session.add(run)
    session.flush()
    return run


def runs_of_job(session: Session, job: Job, *, limit: int = 50) -> Sequence[JobRun]:
    """The job's latest runs, newest first."""
    return session.scalars(select(JobRun).where(JobRun.job_id == job.id)
                           .order_by(JobRun.scheduled_at.desc(), JobRun.id.desc()).limit(limit)).all()


def latest_successful_run(session: Session, job: Job) -> JobRun | None:
    """The job's latest run with an output: succeeded, or partial (the page says which)."""
    finished = JobRun.status.in_([RunStatus.SUCCEEDED, RunStatus.PARTIAL])
    return session.scalar(select(JobRun).where(JobRun.job_id == job.id, finished)
                          .order_by(JobRun.finished_at.desc()).limit(1))


def output_path(run: JobRun, outputs_dir: Path) -> Path | None:
    """The run's file if it is a file of ours inside the outputs folder (never a path from input)."""
    if not run.output_file or run.output_file.startswith(("http://", "https://")):
        return None
    path = Path(run.output_file).resolve()
    root = outputs_dir.resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


@dataclass(frozen=True)
class Preview:
    header: list[str]
    rows: list[list[Any]]
    chart_labels: list[str]
    chart_values: list[float]
    chart_label: str


def preview_name(run_id: int) -> str:
    """The file, in the job's output folder, holding a run's first rows and chart series."""
    return f"{run_id}.preview.json"


def preview_path(outputs_dir: Path, run: JobRun) -> Path:
    return outputs_dir / str(run.user_id) / str(run.job_id) / preview_name(run.id)


def preview_of(outputs_dir: Path, run: JobRun) -> Preview | None:
    path = preview_path(outputs_dir, run)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Preview(data["header"], data["rows"], data["chart_labels"], data["chart_values"],
                   data["chart_label"])


@dataclass(frozen=True)
class DashboardRuns:
    failing: Sequence[Job]
    upcoming: Sequence[Job]
    overdue: Sequence[Job]


def dashboard_runs(session: Session, user_id: int, *, grace: timedelta = timedelta(minutes=10),
                   now: datetime | None = None, limit: int = 10) -> DashboardRuns:
    """Jobs whose last run failed or left accounts out, the next scheduled runs, and jobs whose
    run is overdue (nothing ran)."""
    now = now or utcnow()
    scheduled = (Job.user_id == user_id) & Job.is_enabled.is_(True) & (Job.schedule_kind != ScheduleKind.MANUAL)
    attention = Job.last_run_status.in_([RunStatus.FAILED, RunStatus.PARTIAL])
    failing = session.scalars(select(Job).where(Job.user_id == user_id, attention)
                              .order_by(Job.last_run_at.desc()).limit(limit)).all()
    upcoming = session.scalars(select(Job).where(scheduled, Job.next_run_at >= now - grace)
                               .order_by(Job.next_run_at).limit(limit)).all()
    overdue = session.scalars(select(Job).where(scheduled, Job.next_run_at < now - grace)
                              .order_by(Job.next_run_at).limit(limit)).all()
    return DashboardRuns(failing, upcoming, overdue)
