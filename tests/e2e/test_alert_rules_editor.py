"""The alert rules' list in the job editor, in headless Chromium: form-lists.js adds, moves
and removes rules and conditions in the page, and the saved job has them in order."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from ppc_robot.lib.models import Job
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD


def test_rules_are_edited_in_the_page_and_saved_in_order(page, session, workspace):
    browser_login(page, workspace.user.email, PASSWORD)
    editor_url = f"/jobs/new/{workspace.folder.id}?type=alert_rules"
    page.goto(editor_url)
    page.fill("#name", "Rules in the browser")
    page.check(f"#account-{workspace.client_account.id}")
    rules = page.locator("[data-list='params-rules'] > .field-list-entry")
    expect(rules).to_have_count(1)

    page.fill("#params-rules-0-name", "First")
    page.click("button[value='add:params-rules']")
    expect(rules).to_have_count(2)
    expect(page.locator("#params-rules-1-name")).to_have_value("")
    page.fill("#params-rules-1-name", "Second")
    page.select_option("#params-rules-1-conditions-0-metric", "clicks")
    page.select_option("#params-rules-1-conditions-0-comparison", "lt")
    page.fill("#params-rules-1-conditions-0-value", "10")
    page.click("button[value='add:params-rules']")
    page.fill("#params-rules-2-name", "Third")
    page.fill("#params-rules-2-conditions-0-value", "5")
    page.click("button[value='up:params-rules-1']")
    page.click("button[value='remove:params-rules-2']")
    page.click("button[value='add:params-rules-0-conditions']")
    page.select_option("#params-rules-0-conditions-1-metric", "cost")
    page.fill("#params-rules-0-conditions-1-value", "100")
    assert page.url.endswith(editor_url)  # all of it without a round trip
    expect(page.locator("#params-rules-0-name")).to_have_value("Second")
    expect(page.locator("#params-rules-1-name")).to_have_value("First")
    screenshot(page, "alert-rules-editor")

    page.click("button.btn-primary:has-text('Save job')")
    expect(page.locator("h1")).to_contain_text("Rules in the browser")

    session.rollback()
    job = session.scalar(select(Job).where(Job.name == "Rules in the browser"))
    rules_saved = job.definition.parameters["rules"]
    assert [r["name"] for r in rules_saved] == ["Second", "First"]
    assert rules_saved[0]["conditions"] == [
        {"metric": "clicks", "comparison": "lt", "value": "10"},
        {"metric": "cost", "comparison": "gt", "value": "100"}]
