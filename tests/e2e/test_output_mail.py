"""In the browser: a job's output e-mailed to clients, set in the editor and shown in words."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from ppc_robot.lib.models import Job
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD


def test_the_editor_sets_whom_the_output_is_mailed_to(page, session, workspace):
    job = workspace.job
    browser_login(page, workspace.user.email, PASSWORD)
    page.goto(f"/jobs/{job.id}/edit")
    recipients = page.locator("#email_recipients")
    expect(recipients).to_be_hidden()

    page.check("#email_output")
    expect(recipients).to_have_value(workspace.user.email)  # the owner by default
    recipients.fill("client@example.test, not an address")
    page.click("main button:has-text('Save job')")
    expect(page.locator("#email_recipients ~ .invalid-feedback, #email_recipients + .invalid-feedback")
           ).to_contain_text("“not an address” is not an e-mail address")
    page.locator("#email_recipients").fill(f"client@example.test\n{workspace.user.email}")
    screenshot(page, "job-editor-output-mail")
    page.click("main button:has-text('Save job')")

    expect(page.locator(".job-recipients")).to_have_text(f"client@example.test, {workspace.user.email}")
    screenshot(page, "job-page-in-words")
    session.rollback()
    stored = session.scalar(select(Job.email_recipients).where(Job.id == job.id))
    assert stored == ["client@example.test", workspace.user.email]
