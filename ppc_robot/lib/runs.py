"""Runs as the pages see them: run now, history, previews. Nothing here commits."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, literal, select, union_all
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
    chart: dict[str, Any] | None = None
    totals: list[list[Any]] = field(default_factory=list)  # a totals row per currency
    # The numeric cells as exact decimal strings (None elsewhere) with their columns' kinds and
    # currencies, for the page to write in its reader's locale; empty in older previews.
    kinds: list[str] = field(default_factory=list)
    currency: str = ""
    values: list[list[str | None]] = field(default_factory=list)
    totals_values: list[list[str | None]] = field(default_factory=list)
    totals_currencies: list[str] = field(default_factory=list)


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
    chart = data.get("chart")
    if chart is None and len(data["chart_values"]) > 1:  # a preview saved before the axes came
        chart = {"labels": data["chart_labels"], "titles": {"y": data["chart_label"]},
                 "series": [{"label": data["chart_label"], "values": data["chart_values"],
                             "type": "line"}]}
    return Preview(data["header"], data["rows"], data["chart_labels"], data["chart_values"],
                   data["chart_label"], chart, data.get("totals", []), data.get("kinds", []),
                   data.get("currency", ""), data.get("values", []),
                   data.get("totals_values", []), data.get("totals_currencies", []))


@dataclass(frozen=True)
class DashboardRuns:
    failing: Sequence[Job]
    upcoming: Sequence[Job]
    overdue: Sequence[Job]


@functools.cache
def _dashboard_runs_statement(limit: int) -> Any:
    """The three lists of `dashboard_runs` in one statement (bound `user_id` and `since`), built
    once: each list's job ids with its number (0 failing, 1 upcoming, 2 overdue), then the jobs."""
    user_id = bindparam("user_id")
    since = bindparam("since")
    scheduled = ((Job.user_id == user_id) & Job.is_enabled.is_(True)
                 & (Job.schedule_kind != ScheduleKind.MANUAL))
    attention = Job.last_run_status.in_([RunStatus.FAILED, RunStatus.PARTIAL])
    lists = [
        select(Job.id, literal(0).label("list")).where(Job.user_id == user_id, attention)
        .order_by(Job.last_run_at.desc()),
        select(Job.id, literal(1).label("list")).where(scheduled, Job.next_run_at >= since)
        .order_by(Job.next_run_at),
        select(Job.id, literal(2).label("list")).where(scheduled, Job.next_run_at < since)
        .order_by(Job.next_run_at),
    ]
    # Each limited list in a subquery of its own: SQLite allows no LIMIT inside a UNION.
    limited = [stmt.limit(limit).subquery() for stmt in lists]
    picked = union_all(*(select(sub.c.id, sub.c.list) for sub in limited)).subquery()
    return select(Job, picked.c.list).join(picked, picked.c.id == Job.id)


def dashboard_runs(session: Session, user_id: int, *, grace: timedelta = timedelta(minutes=10),
                   now: datetime | None = None, limit: int = 10) -> DashboardRuns:
    """Jobs whose last run failed or left accounts out, the next scheduled runs, and jobs whose
    run is overdue (nothing ran), in one statement."""
    now = now or utcnow()
    lists: tuple[list[Job], list[Job], list[Job]] = ([], [], [])
    rows = session.execute(_dashboard_runs_statement(limit),
                           {"user_id": user_id, "since": now - grace})
    for job, number in rows:
        lists[number].append(job)
    failing, upcoming, overdue = lists
    failing.sort(key=lambda job: job.last_run_at or now, reverse=True)
    upcoming.sort(key=lambda job: job.next_run_at or now)
    overdue.sort(key=lambda job: job.next_run_at or now)
    return DashboardRuns(failing, upcoming, overdue)
