"""The accounts overview's run shows its first rows on the run and job pages, as reports do."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import Client, JobLevel, JobRun, OutputType, RunStatus
from ppc_robot.lib.reports.accounts_overview import default_parameters
from ppc_robot.lib.runner import execute_run
from ppc_robot.web.queue import runner_settings
from tests.factories import make_definition, make_job
from tests.support import runs as run_fixtures
from tests.support.runs import KEY

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox


@pytest.mark.parametrize("output", [OutputType.XLSX, OutputType.CSV])
def test_the_overview_run_page_previews_its_rows(app, client, login, session, factory, sandbox,
                                                 output):
    user, service_account, accounts = sandbox
    acme = Client(user_id=user.id, name="Acme Shoes", currency=accounts[0].currency,
                  monthly_budget=Decimal(50000))
    session.add(acme)
    session.flush()
    accounts[0].client_id = acme.id
    definition = make_definition(session, user, task_type="accounts_overview", output_type=output,
                                 parameters=default_parameters())
    job = make_job(session, user, definition=definition, name="Morning overview")
    job.level, job.service_account_id, job.all_client_accounts = (
        JobLevel.SERVICE_ACCOUNT, service_account.id, True)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=job.created_at)
    session.add(run)
    session.commit()
    app.config["PPC_ROBOT_CREDENTIALS_KEY"] = KEY
    login(user)

    execute_run(factory, run.id, runner_settings(app))
    page = client.get(f"/runs/{run.id}")
    job_page = client.get(f"/jobs/{job.id}")

    session.expire_all()
    assert session.scalar(select(JobRun.status).where(JobRun.id == run.id)) == RunStatus.SUCCEEDED
    assert "First rows" in page.text
    for text in ("Spend month to date", "Monthly budget", "Acme Shoes", "50,000.00",
                 *(a.name for a in accounts)):
        assert text in page.text, text
    # a row per account and one for the client under the header, a total per currency below
    currencies = {a.currency for a in accounts}
    assert page.text.count("<tr>") == 1 + len(accounts) + 1
    assert page.text.count('<tr class="fw-bold">') == len(currencies)
    assert "Latest output" in job_page.text and "Acme Shoes" in job_page.text
