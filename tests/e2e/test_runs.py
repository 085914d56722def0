"""In the browser: run a job now, watch it finish, see its preview and download it."""

from __future__ import annotations

import dataclasses

from playwright.sync_api import expect

from ppc_robot.lib.models import OutputType
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import EmbeddedWorker
from ppc_robot.web.queue import runner_settings, session_factory
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD, make_definition, make_job
from tests.support import runs as run_fixtures

sandbox = run_fixtures.sandbox


def test_run_now_shows_progress_then_the_preview_and_the_download(page, app, session, sandbox):
    user, _, accounts = sandbox
    definition = make_definition(session, user, version=2, output_type=OutputType.XLSX,
                                 parameters=default_parameters() | {
                                     "dimensions": ["date"], "metrics": ["clicks", "cost", "cpc"],
                                     "date_range": "last_14_days"})
    job = make_job(session, user, definition=definition, name="Acme daily performance")
    job.client_accounts = [a for a in accounts if a.currency == accounts[0].currency]
    session.commit()
    worker = EmbeddedWorker(session_factory(app), dataclasses.replace(runner_settings(app), tick_seconds=0.3))
    app.extensions["ppc_robot_worker"] = worker.start()
    try:
        browser_login(page, user.email, PASSWORD)
        page.goto(f"/jobs/{job.id}")
        page.click("text=Run now")
        expect(page.locator("#run-status")).to_contain_text("succeeded", timeout=30_000)
        expect(page.locator(".run-preview tbody tr")).to_have_count(14)
        screenshot(page, "run-finished")
        with page.expect_download() as download:
            page.click("text=Download the output")
        assert download.value.suggested_filename.endswith(".xlsx")
        page.goto(f"/jobs/{job.id}")
        expect(page.locator(".run-history tbody tr")).to_have_count(1)
        screenshot(page, "job-page-with-history")
    finally:
        app.extensions.pop("ppc_robot_worker", None)
        worker.stop()
