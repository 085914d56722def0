"""The demo workspace, run by the embedded worker until its jobs and its statistics are done."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.models import Job, JobRun, RunStatus, StatsState
from ppc_robot.lib.runner import EmbeddedWorker
from ppc_robot.web.queue import runner_settings, session_factory


def run_demo(app: Flask, session: Session, user_id: int, started: datetime,
             seconds: float = 60) -> list[JobRun]:
    """Run the worker until every enabled job of the demo user has finished a run scheduled
    since `started` and the housekeeping has filled the store; the runs, oldest first."""
    jobs = session.scalar(select(func.count()).select_from(Job).where(
        Job.user_id == user_id, Job.is_enabled.is_(True)))
    settings = dataclasses.replace(runner_settings(app), tick_seconds=0.2, heartbeat_seconds=0.5)
    worker = EmbeddedWorker(session_factory(app), settings).start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            finished = session.scalar(select(func.count()).select_from(JobRun).where(
                JobRun.user_id == user_id, JobRun.scheduled_at >= started,
                JobRun.status.in_([RunStatus.SUCCEEDED, RunStatus.FAILED])))
            # The housekeeping (a thread of its own) fills the store meanwhile; it is let finish,
            # so that it writes nothing into the next test's tables.
            pending = session.scalar(select(func.count()).select_from(StatsState).where(
                StatsState.backfill_next_at.is_not(None) | StatsState.refreshed_at.is_(None)))
            states = session.scalar(select(func.count()).select_from(StatsState))
            session.rollback()
            if finished >= jobs and states and not pending:
                break
            time.sleep(0.2)
    finally:
        worker.stop()
    return list(session.scalars(select(JobRun).where(
        JobRun.user_id == user_id, JobRun.scheduled_at >= started).order_by(JobRun.id)))
