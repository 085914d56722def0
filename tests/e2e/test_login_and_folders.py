from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD


def test_log_in_and_build_a_folder_tree_three_deep(page, workspace):
    browser_login(page, workspace.user.email, PASSWORD)
    expect(page.locator("h1")).to_have_text("Dashboard")

    page.click("text=Folders")
    for name in ("Agency", "Retail", "Shoes"):
        page.click("text=New folder")
        page.fill("input[name=name]", name)
        page.click("main button[type=submit]")
        expect(page.locator("h1")).to_contain_text(name)

    expect(page.locator(".breadcrumb")).to_contain_text(re.compile(r"Home\s*/?\s*Agency\s*/?\s*Retail\s*/?\s*Shoes"))
    screenshot(page, "folder-browser-three-deep")


def test_a_wrong_password_shows_the_generic_message(page, workspace):
    page.goto("/login")
    page.fill("input[name=email]", workspace.user.email)
    page.fill("input[name=password]", "wrong password here")
    page.click("main button[type=submit]")

    expect(page.locator(".invalid-feedback")).to_contain_text("The e-mail or password is not right.")
    screenshot(page, "login-refused")
