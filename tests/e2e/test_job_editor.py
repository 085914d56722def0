"""The job editor in headless Chromium: the live schedule preview and the job's level."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from ppc_robot.lib.models import Job, JobLevel
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD, make_client_account


def job_named(session, name):
    session.rollback()
    session.expire_all()
    return session.scalar(select(Job).where(Job.name == name))


def test_the_schedule_preview_follows_the_fields_and_a_job_reads_a_whole_login(page, session, workspace):
    user, login = workspace.user, workspace.service_account
    user.time_zone = "America/New_York"
    make_client_account(session, login, name="Second shop")
    session.commit()
    jobs_before = session.scalar(select(func.count()).select_from(Job))
    browser_login(page, user.email, PASSWORD)
    editor_url = f"/jobs/new/{workspace.folder.id}"
    page.goto(editor_url)
    expect(page.locator(".schedule-preview-words")).to_have_text("Manually")

    # Weekly on Monday and Wednesday at 07:30 in Prague: the preview follows, nothing is sent.
    page.fill("#name", "Whole login weekly")
    page.select_option("#time_zone", "Europe/Prague")
    page.select_option("#schedule_kind", "weekly")
    page.check("#schedule_weekdays-0")
    page.check("#schedule_weekdays-2")
    page.fill("#schedule_time", "07:30")

    words = page.locator(".schedule-preview-words")
    expect(words).to_have_text("Weekly on Monday and Wednesday at 07:30 (Europe/Prague)")
    runs = page.locator(".schedule-preview li")
    expect(runs).to_have_count(5)
    for run in runs.all_inner_texts():
        assert re.match(r"(Mon|Wed) \d{4}-\d\d-\d\d 07:30 \(your time .*America/New_York\)$", run), run
    assert page.url.endswith(editor_url)
    assert session.scalar(select(func.count()).select_from(Job)) == jobs_before

    # A time the editor would refuse shows its message in the preview, then clears again.
    page.fill("#schedule_time", "7.30")
    expect(page.locator(".schedule-preview-error")).to_have_text("Give the time as HH:MM, for example 07:30.")
    page.fill("#schedule_time", "07:30")
    expect(runs).to_have_count(5)

    # Every account of a login: only its picker shows, and the job page says what it reads.
    expect(page.locator("#service_account_id")).to_be_hidden()
    page.get_by_label("Every account of a login").check()
    expect(page.locator("#service_account_id")).to_be_visible()
    expect(page.locator(".account-list")).to_be_hidden()
    page.select_option("#service_account_id", str(login.id))
    screenshot(page, "job-editor-live-preview-and-level")
    page.click("main button:has-text('Save job')")

    expect(page.locator("h1")).to_contain_text("Whole login weekly")
    expect(page.locator(".job-level")).to_have_text(f"All of login Sandbox – {login.name} (2)")
    expect(page.locator(".schedule-words")).to_have_text(
        "Weekly on Monday and Wednesday at 07:30 (Europe/Prague)")
    screenshot(page, "job-page-login-level")
    job = job_named(session, "Whole login weekly")
    assert (job.level, job.service_account_id, job.all_client_accounts) == (
        JobLevel.SERVICE_ACCOUNT, login.id, True)

    page.goto(f"/folders/{workspace.folder.id}")
    row = page.locator(f"tr[data-job-id='{job.id}'] .accounts-cell")
    expect(row).to_have_text(f"All of login Sandbox – {login.name} (2)")
