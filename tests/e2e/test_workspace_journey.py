"""The workspace journey of issue 3 in headless Chromium, with screenshots for reviewers."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from ppc_robot.lib.models import Folder, Job
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD


def folder_id(session, name):
    session.rollback()
    return session.scalar(select(Folder.id).where(Folder.name == name))


def job_by_name(session, name):
    session.rollback()
    session.expire_all()
    return session.scalar(select(Job).where(Job.name == name))


def open_folder(page, *names):
    page.click("nav.navbar >> text=Folders")
    for name in names:
        page.click(f".subfolders >> text={name}")
    expect(page.locator("h1")).to_contain_text(names[-1] if names else "Home")


def save_job(page):
    page.click("main button:has-text('Save job')")


def test_the_workspace_journey(page, session, workspace):
    user = workspace.user
    browser_login(page, user.email, PASSWORD)

    # A folder tree three deep.
    open_folder(page)
    for name in ("Agency", "Retail", "Shoes"):
        page.click("main >> text=New folder")
        page.fill("input[name=name]", name)
        page.click("main button[type=submit]")
        expect(page.locator("h1")).to_contain_text(name)

    # A job with a new definition.
    page.click("main >> text=New job")
    page.fill("#name", "Shoes daily")
    page.select_option("#schedule_kind", "daily")
    page.fill("#schedule_time", "06:30")
    page.select_option("#time_zone", "Europe/Prague")
    page.fill("#definition_name", "Daily shoes report")
    page.select_option("#params-date_range", "last_7_days")
    page.check("#params-metrics-roas")
    page.check(f"#account-{workspace.client_account.id}")
    page.click("main button[name=preview]")
    expect(page.locator(".schedule-preview")).to_contain_text("Daily at 06:30 (Europe/Prague)")
    expect(page.locator(".schedule-preview li")).to_have_count(5)
    screenshot(page, "job-editor")
    save_job(page)
    expect(page.locator("h1")).to_contain_text("Shoes daily")
    expect(page.locator(".schedule-words")).to_have_text("Daily at 06:30 (Europe/Prague)")
    expect(page.locator(".definition")).to_contain_text("ROAS")
    first = job_by_name(session, "Shoes daily")

    # A second job sharing the definition; an edit made through it reaches both.
    open_folder(page, "Agency", "Retail", "Shoes")
    page.click("main >> text=New job")
    page.fill("#name", "Shoes weekly")
    page.select_option("#definition_id", str(first.definition_id))
    expect(page.locator(".attach-note")).to_be_visible()
    expect(page.locator(".attach-note")).to_contain_text("Used now by: Shoes daily")
    page.select_option("#schedule_kind", "weekly")
    page.check("#schedule_weekdays-0")
    page.check("#schedule_weekdays-3")
    save_job(page)
    expect(page.locator(".definition")).to_contain_text("shared by 2 jobs")
    page.click("main >> text=Edit")
    expect(page.locator(".shared-warning")).to_contain_text("reach all 2 jobs")
    page.select_option("#params-date_range", "last_month")
    save_job(page)
    page.goto(f"/jobs/{first.id}")
    expect(page.locator(".definition")).to_contain_text("Last month")

    # Move a subtree: Retail (with Shoes) goes under a new top folder.
    open_folder(page)
    page.click("main >> text=New folder")
    page.fill("input[name=name]", "Archive")
    page.click("main button[type=submit]")
    open_folder(page, "Agency", "Retail")
    page.click("main >> text=Move")
    page.select_option("#target_id", str(folder_id(session, "Archive")))
    page.click("main button[type=submit]")
    expect(page.locator(".breadcrumb")).to_contain_text(re.compile(r"Home\s*/?\s*Archive\s*/?\s*Retail"))

    # Bulk-tag both jobs, then bulk-move them up into Retail.
    page.click(".subfolders >> text=Shoes")
    expect(page.locator(".job-row")).to_have_count(2)
    page.check("[data-select-all]")
    page.select_option(".bulk-bar select[name=tag_id]", str(workspace.tag.id))
    page.click(".bulk-bar >> text=Add tag")
    expect(page.locator(".alert-success")).to_contain_text("2 jobs tagged")
    expect(page.locator(".job-row .tag-badge")).to_have_count(2)
    screenshot(page, "folder-browser")
    page.check("[data-select-all]")
    page.click(".bulk-bar >> text=Move…")
    page.select_option("#target_id", str(folder_id(session, "Retail")))
    page.click("main button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("2 jobs moved into “Retail”")

    # Filter by tag, from the tag's usage count, and search across the tree.
    page.click("nav.navbar >> text=Tags")
    page.click(f"tr[data-tag='{workspace.tag.name}'] a.usage")
    expect(page.locator(".job-row")).to_have_count(3)  # the workspace's own job carries it too
    open_folder(page, "Archive", "Retail")
    page.select_option("#tag-filter", str(workspace.tag.id))
    expect(page.locator(".job-row")).to_have_count(2)
    page.fill("input[name=q]", "weekly")
    page.press("input[name=q]", "Enter")
    expect(page.locator(".job-row")).to_have_count(1)
    expect(page.locator(".folder-path")).to_have_text("Home / Archive / Retail")

    # Delete Retail, moving its contents up into Archive.
    open_folder(page, "Archive", "Retail")
    page.click("main >> text=Delete")
    page.check("input[name=move_contents_up]")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Archive")
    expect(page.locator(".subfolders")).to_contain_text("Shoes")
    expect(page.locator(".job-row")).to_have_count(2)
    screenshot(page, "folder-browser-after-delete")
