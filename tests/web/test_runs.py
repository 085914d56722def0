"""Run now, the run page with progress and preview, downloads."""

from __future__ import annotations

import re

from sqlalchemy import select

from ppc_robot.lib.models import JobRun, OutputType, RunStatus
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import execute_run
from ppc_robot.web.queue import runner_settings
from tests.conftest import csrf_token_from
from tests.factories import make_definition, make_job
from tests.support import runs as run_fixtures
from tests.support.runs import KEY

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox


def start(client, job):
    token = csrf_token_from(client.get(f"/jobs/{job.id}").text)
    return client.post(f"/runs/job/{job.id}", data={"csrf_token": token})


def sandbox_job(session, user, accounts, output=OutputType.XLSX):
    definition = make_definition(session, user, version=2, output_type=output, parameters=default_parameters()
                                 | {"dimensions": ["date"], "metrics": ["clicks", "cost"], "date_range": "last_7_days"})
    job = make_job(session, user, definition=definition, name="Acme daily")
    job.client_accounts = [a for a in accounts if a.currency == accounts[0].currency][:2]
    session.commit()
    return job


def test_run_now_queues_a_run_and_its_page_shows_the_preview_and_download(app, client, login, session, factory, sandbox):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts)
    login(user)
    app.config["PPC_ROBOT_CREDENTIALS_KEY"] = KEY

    response = start(client, job)

    run = session.scalar(select(JobRun).where(JobRun.job_id == job.id))
    assert response.status_code == 302 and response.headers["Location"] == f"/runs/{run.id}"
    assert run.status == RunStatus.QUEUED
    waiting = client.get(f"/runs/{run.id}")
    assert "accounts" in waiting.text and 'id="run-progress"' in waiting.text
    assert client.get(f"/runs/{run.id}/status").json == {"status": "queued", "done": 0, "total": 0,
                                                         "finished": False, "error": None}

    execute_run(factory, run.id, runner_settings(app))  # what the worker does with the queued id
    page = client.get(f"/runs/{run.id}")
    download = client.get(f"/runs/{run.id}/download")

    assert "First rows" in page.text and "<svg" in page.text and "Download the output" in page.text
    assert page.text.count("<tr>") == 8  # header + 7 days
    assert download.status_code == 200
    assert re.search(r'attachment; filename="?Acme daily \d{4}-\d\d-\d\d\.xlsx', download.headers["Content-Disposition"])
    assert download.data[:2] == b"PK"


def test_run_now_is_refused_while_a_run_is_waiting(client, login, session, sandbox):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts)
    login(user)
    start(client, job)

    again = start(client, job)

    assert again.headers["Location"] == f"/jobs/{job.id}"
    assert "already waiting or running" in client.get(f"/jobs/{job.id}").text
    assert len(session.scalars(select(JobRun).where(JobRun.job_id == job.id)).all()) == 1


def test_another_users_run_and_its_file_are_404(app, client, login, session, factory, sandbox, other_user):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts, output=OutputType.CSV)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=job.created_at)
    session.add(run)
    session.commit()
    app.config["PPC_ROBOT_CREDENTIALS_KEY"] = KEY
    execute_run(factory, run.id, runner_settings(app))
    login(other_user)

    for url in (f"/runs/{run.id}", f"/runs/{run.id}/status", f"/runs/{run.id}/download"):
        assert client.get(url).status_code == 404
