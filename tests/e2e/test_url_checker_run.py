"""In the browser: the demo's URL checker job, run now against the demo site the app serves,
shows its counts and the broken landing pages on the run's page."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select, update

from ppc_robot.lib.demo import seed_demo
from ppc_robot.lib.demo_site import BROKEN_PATHS, DEMO_SITE_PREFIX
from ppc_robot.lib.models import Job, JobRun, RunStatus, utcnow
from ppc_robot.lib.reports.url_checker_store import status_counts
from ppc_robot.lib.runner import EmbeddedWorker
from ppc_robot.web.queue import runner_settings, session_factory
from tests.e2e.conftest import browser_login, screenshot

LABELS = {"broken": "Broken", "malformed": "Malformed", "inconclusive": "Inconclusive",
          "redirect": "Redirects", "ok": "OK"}


def test_the_demos_url_checker_run_page_shows_the_counts_and_the_broken_pages(
        page, app, session, live_server):
    demo = seed_demo(session)
    # None of the demo's jobs is due while the test runs: the run is the one asked for.
    session.execute(update(Job).where(Job.user_id == demo.user.id).values(
        next_run_at=utcnow() + timedelta(days=1)))
    session.commit()
    job = session.scalars(select(Job).where(Job.user_id == demo.user.id,
                                            Job.name == "All accounts — URL checker")).one()
    settings = runner_settings(app)
    # The Sandbox's ads link to the demo site of the app at its base URL: this live server.
    settings = dataclasses.replace(settings, tick_seconds=0.3, app_config={
        **settings.app_config, "PPC_ROBOT_BASE_URL": live_server.url,
        "PPC_ROBOT_URLCHECK_MIN_INTERVAL": "0"})
    worker = EmbeddedWorker(session_factory(app), settings)
    app.extensions["ppc_robot_worker"] = worker.start()
    try:
        browser_login(page, demo.user.email, demo.password)
        page.goto(f"/jobs/{job.id}")
        page.click("text=Run now")
        expect(page.locator("#run-status")).to_contain_text("succeeded", timeout=90_000)
        session.rollback()  # a fresh read: the run was written by the app and the worker
        run = session.scalars(select(JobRun).where(JobRun.job_id == job.id)).one()
        assert run.status is RunStatus.SUCCEEDED, run.error_message
        counts = status_counts(session, run.id)

        badges = page.locator(".url-check-counts .badge")
        expect(badges).to_have_text([f"{LABELS[s]}: {counts[s]}" for s in LABELS if counts.get(s)])
        broken = page.locator("table.url-check-broken tbody tr")
        expect(broken).to_have_count(counts["broken"] + counts["malformed"])
        prefix = f"{live_server.url}{DEMO_SITE_PREFIX}"
        urls = broken.locator("td:first-child").all_inner_texts()
        # Every broken page of the demo site (each ad's mobile URL is another URL to check).
        assert {u.removeprefix(prefix).split("?")[0] for u in urls if u.startswith(prefix)} == set(
            BROKEN_PATHS)
        assert counts["malformed"] >= 1
        expect(broken.filter(has_text="/sale-2019").first).to_contain_text("HTTP 404 Not Found.")
        expect(broken.filter(has_text="/product/discontinued").first).to_contain_text("Soft 404")
        expect(broken.filter(has_text="summer sale")).to_contain_text("spaces")
        expect(page.locator("table.url-check-broken")).not_to_contain_text("/slow")
        screenshot(page, "url-checker-run")
    finally:
        app.extensions.pop("ppc_robot_worker", None)
        worker.stop()
