"""The demo workspace runs by itself: its jobs produce downloadable XLSX within a minute."""

from __future__ import annotations

from sqlalchemy import select

from ppc_robot.lib.demo import seed_demo
from ppc_robot.lib.models import Job, RunStatus, utcnow
from tests.support.demo import run_demo


def test_the_demo_jobs_run_by_themselves_and_their_xlsx_download(app, client, login, session):
    started = utcnow()  # the demo also holds yesterday's delivery of its anomalies job
    demo = seed_demo(session)
    session.commit()
    jobs = session.scalars(select(Job).where(Job.user_id == demo.user.id, Job.is_enabled.is_(True))).all()

    runs = run_demo(app, session, demo.user.id, started)

    assert len(runs) == len(jobs) >= 4
    assert [(r.status, r.error_message) for r in runs if r.status != RunStatus.SUCCEEDED] == []
    login(demo.user)
    download = client.get(f"/runs/{runs[0].id}/download")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert download.headers["Content-Disposition"].endswith('.xlsx"') or ".xlsx" in download.headers["Content-Disposition"]
