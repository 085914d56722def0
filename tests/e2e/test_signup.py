"""Sign-up in Chromium: the browser's time zone is preselected, and the new user lands logged in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ppc_robot.lib.models import User
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "a passphrase of my own"


def test_sign_up_preselects_the_browsers_time_zone_and_logs_in(app, browser, live_server, session,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "PPC_ROBOT_OPEN_REGISTRATION", True)
    context = browser.new_context(base_url=live_server.url, timezone_id="America/Sao_Paulo")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)

    tab.goto("/signup")
    expect(tab.locator("select[name=time_zone]")).to_have_value("America/Sao_Paulo")
    tab.fill("input[name=email]", "zone@example.test")
    tab.fill("input[name=password]", PASSWORD)
    tab.fill("input[name=confirm]", PASSWORD)
    screenshot(tab, "sign-up-with-the-browsers-zone")
    tab.click("main button[type=submit]")

    expect(tab.locator("h1")).to_have_text("Dashboard")
    context.close()
    assert problems == []
    session.rollback()
    user = session.scalar(select(User).where(User.email == "zone@example.test"))
    assert user.time_zone == "America/Sao_Paulo"
