from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from ppc_robot.lib.models import Channel, JobRun, NotificationChannelSetting, RunStatus, utcnow
from ppc_robot.lib.notifications import emit
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD, make_job, make_user


def test_a_failed_run_rings_the_bell_until_read_and_channels_are_set_up(page, session):
    user = make_user(session)
    user.email_verified_at = utcnow()
    job = make_job(session, user, name="Shoe shop – daily performance")
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=utcnow(), status=RunStatus.FAILED,
                 error_message="Google Ads answered 500 three times")
    session.add(run)
    session.flush()
    # As the runner raises it when a run ends failed.
    emit(session, user.id, "report_failed", params={"job": job.name, "reason": run.error_message},
         job_id=job.id, run_id=run.id)
    emit(session, user.id, "url_redirects", params={"count": 4}, job_id=job.id)
    session.commit()

    browser_login(page, user.email, PASSWORD)
    bell = page.locator("#bell")
    expect(bell.locator(".bell-count")).to_have_text("2")
    bell.click()
    menu = page.locator(".bell-menu")
    expect(menu).to_be_visible()
    expect(menu.locator(".notification-item").first).to_contain_text("Google Ads answered 500 three times")
    expect(menu.locator(".notification-item.level-error.is-unread")).to_have_count(1)
    page.evaluate("document.fonts.ready")
    screenshot(page, "notification-bell")

    menu.locator("text=See all notifications").click()
    expect(page.locator("h1")).to_contain_text("Notifications")
    items = page.locator(".notification-list .notification-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Shoe shop – daily performance")
    page.evaluate("document.fonts.ready")
    screenshot(page, "notification-list")
    for _ in range(2):
        page.locator(".notification-list button.mark-read").first.click()
        expect(page.locator(".notification-list .is-read").first).to_be_visible()
    expect(page.locator(".notification-list .is-unread")).to_have_count(0)
    expect(bell.locator(".bell-count")).to_be_hidden()
    expect(bell).to_have_attribute("aria-label", "Notifications: 0 unread")
    screenshot(page, "notification-list-read")

    page.goto("/notifications/settings")
    page.check("#email-is_enabled")
    page.select_option("#email-email_mode", "digest")
    page.fill("#email-digest_hour", "7")
    page.click("form.email-settings button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("E-mail notification settings saved.")
    page.check("#slack-is_enabled")
    page.select_option("#slack-min_level", "warning")
    page.fill("#slack-webhook_url", "https://hooks.slack.com/services/T0AB12CD/B0EF34GH/abcdefghIJKLmnop9876")
    page.click("form.slack-settings button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("Slack notification settings saved.")
    expect(page.locator(".masked-webhook")).to_have_text(re.compile(r"hooks\.slack\.com/services/…/•+9876"))
    screenshot(page, "notification-settings")

    session.expire_all()
    saved = {s.channel: s for s in session.scalars(
        select(NotificationChannelSetting).where(NotificationChannelSetting.user_id == user.id))}
    assert (saved[Channel.EMAIL].is_enabled, saved[Channel.EMAIL].email_mode, saved[Channel.EMAIL].digest_hour) \
        == (True, "digest", 7)
    assert saved[Channel.SLACK].is_enabled and saved[Channel.SLACK].min_level == "warning"


def test_the_digest_mail_reads_well_in_a_browser(page, session, session_factory, smtp_server, slack_stub,
                                                 tmp_path):
    from ppc_robot.lib.models import EmailMode, NotificationLevel
    from ppc_robot.lib.notifications.channels import ChannelChoice, save_email_settings
    from ppc_robot.lib.notifications.delivery import send_digests
    from tests.factories import make_client_account, make_service_account
    from tests.support.notifications import delivery_config

    user = make_user(session, time_zone="Europe/Prague")
    user.email_verified_at = utcnow()
    save_email_settings(session, user, ChannelChoice(True, NotificationLevel.SUGGESTION, []),
                        mode=EmailMode.DIGEST, digest_hour=0)
    login = make_service_account(session, user, name="Agency MCC")
    shop = make_client_account(session, login, name="Shoe shop")
    job = make_job(session, user, name="Shoe shop – daily")
    emit(session, user.id, "report_failed", params={"job": job.name, "reason": "Google Ads answered 500"},
         job_id=job.id, client_account_id=shop.id)
    emit(session, user.id, "url_errors", params={"count": 3}, job_id=job.id, client_account_id=shop.id,
         details=[{"Error": "404 Not Found", "Number of URLs": 2}, {"Error": "timeout", "Number of URLs": 1}])
    emit(session, user.id, "credentials_expired", params={"account": "Agency MCC", "reason": "invalid_grant"},
         service_account_id=login.id)
    session.commit()

    send_digests(session_factory, delivery_config(smtp_server, slack_stub, tmp_path))

    [mail] = smtp_server.messages
    page.set_content(mail.get_body(("html",)).get_content())
    expect(page.locator("h2")).to_have_count(2)
    expect(page.locator("body")).to_contain_text("404 Not Found")
    screenshot(page, "notification-digest-mail")
