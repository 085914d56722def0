"""The demo workspace runs by itself: its jobs produce downloadable XLSX within a minute."""

from __future__ import annotations

import dataclasses
import time

from sqlalchemy import func, select

from ppc_robot.lib.demo import seed_demo
from ppc_robot.lib.models import Job, JobRun, RunStatus, StatsState, utcnow
from ppc_robot.lib.runner import EmbeddedWorker
from ppc_robot.web.queue import runner_settings, session_factory


def test_the_demo_jobs_run_by_themselves_and_their_xlsx_download(app, client, login, session):
    started = utcnow()  # the demo also holds yesterday's delivery of its anomalies job
    demo = seed_demo(session)
    session.commit()
    jobs = session.scalars(select(Job).where(Job.user_id == demo.user.id, Job.is_enabled.is_(True))).all()
    settings = dataclasses.replace(runner_settings(app), tick_seconds=0.2, heartbeat_seconds=0.5)
    worker = EmbeddedWorker(session_factory(app), settings).start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            finished = session.scalars(select(JobRun).where(
                JobRun.user_id == demo.user.id, JobRun.scheduled_at >= started,
                JobRun.status.in_([RunStatus.SUCCEEDED, RunStatus.FAILED]))).all()
            # The housekeeping (a thread of its own) fills the store meanwhile; it is let finish,
            # so that it writes nothing into the next test's tables.
            pending = session.scalar(select(func.count()).select_from(StatsState).where(
                StatsState.backfill_next_at.is_not(None) | StatsState.refreshed_at.is_(None)))
            states = session.scalar(select(func.count()).select_from(StatsState))
            session.rollback()
            if len(finished) >= len(jobs) and states and not pending:
                break
            time.sleep(0.2)
    finally:
        worker.stop()

    runs = session.scalars(select(JobRun).where(JobRun.user_id == demo.user.id,
                                                JobRun.scheduled_at >= started)).all()
    assert len(runs) == len(jobs) >= 4
    assert [(r.status, r.error_message) for r in runs if r.status != RunStatus.SUCCEEDED] == []
    login(demo.user)
    download = client.get(f"/runs/{runs[0].id}/download")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert download.headers["Content-Disposition"].endswith('.xlsx"') or ".xlsx" in download.headers["Content-Disposition"]
