"""The invite journey in Chromium: mail over real SMTP, sign-up, login, a dead link, a plan limit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ppc_robot.lib.jobs import JobError
from ppc_robot.lib.models import User
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD, make_job, make_user
from tests.support.accounts import link_in, mails_to

INVITEE = "invitee@example.test"
INVITEE_PASSWORD = "a passphrase of my own"


def test_an_invitee_signs_up_through_the_mailed_link_and_meets_his_plan_limit(
    app, browser, live_server, page, session, mailbox, monkeypatch
):
    monkeypatch.setitem(app.config, "PPC_ROBOT_BASE_URL", live_server.url)
    admin = make_user(session, email="admin@example.test", is_admin=True)
    session.commit()

    browser_login(page, admin.email, PASSWORD)
    page.click("nav >> text=Admin")
    page.click("main >> text=Invites")
    page.fill("input[name=email]", INVITEE)
    page.click("main button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text(f"Invite sent to {INVITEE}")
    screenshot(page, "admin-invite-sent")

    [mail] = mails_to(mailbox, INVITEE)  # sent over SMTP before the page answered
    link = link_in(mail)
    assert link.startswith(live_server.url + "/invite/")

    invitee_context = browser.new_context(base_url=live_server.url)
    tab = invitee_context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(link)
    expect(tab.locator("input[name=email]")).to_have_value(INVITEE)
    tab.fill("input[name=name]", "Ivana Invitee")
    tab.fill("input[name=password]", INVITEE_PASSWORD)
    tab.fill("input[name=confirm]", INVITEE_PASSWORD)
    screenshot(tab, "invitee-sign-up-form")
    tab.click("main button[type=submit]")
    expect(tab.locator(".alert-success")).to_contain_text("Your account is ready")
    expect(tab.locator("h1")).to_have_text("Dashboard")  # logged in by signing up
    tab.goto(link)
    expect(tab.locator("h1")).to_have_text("Link no longer valid")
    screenshot(tab, "invite-link-no-longer-valid")
    invitee_context.close()

    invitee = session.scalar(select(User).where(User.email == INVITEE))
    make_job(session, invitee, name="First report")
    session.commit()

    page.click("main >> text=Plans")
    page.click("text=New plan")
    page.fill("input[name=name]", "One job")
    page.fill("input[name=max_jobs]", "1")
    page.click("main button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("Plan “One job” created.")
    page.click("main >> text=Users")
    page.click(f"text={INVITEE}")
    page.select_option("select[name=plan_id]", label="One job")
    page.click("main button:has-text('Change the plan')")
    expect(page.locator(".alert-success")).to_contain_text("is on the plan “One job”")
    screenshot(page, "admin-lowered-the-plan")
    page.click("main >> text=Audit log")
    expect(page.locator(".audit-table")).to_contain_text("user.change_plan")
    expect(page.locator(".audit-table")).to_contain_text("invite.create")

    session.expire_all()
    with pytest.raises(JobError, match=re.escape("“One job” allows at most 1 jobs (limit: maximum jobs)")):
        make_job(session, invitee, name="Second report")
