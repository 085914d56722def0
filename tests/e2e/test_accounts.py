"""Browser flows of the accounts and clients areas, against the platform stand-ins."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ppc_robot.lib.models import ClientAccountTag
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD
from tests.stubs.google import GoogleStub
from tests.stubs.sklik import SklikStub
from tests.support import platforms as platform_fixtures
from tests.support.platforms import SKLIK_TOKEN, google_settings

sklik_stub = platform_fixtures.sklik_stub
google_stub = platform_fixtures.google_stub


@pytest.fixture
def signed_in(page, workspace):
    browser_login(page, workspace.user.email, PASSWORD)
    return workspace


def test_link_sandbox_and_see_its_client_accounts(page, signed_in):
    page.goto("/accounts/")
    page.click("main .link-buttons button:has-text('Sandbox')")
    expect(page.locator("h1")).to_contain_text("Sandbox MCC")
    expect(page.locator("table.client-accounts")).to_contain_text("Acme Shoes CZ")
    expect(page.locator("table.client-accounts")).to_contain_text("Bike Rental Vienna")
    page.goto("/accounts/")
    expect(page.locator("table.logins")).to_contain_text("valid")
    screenshot(page, "accounts-sandbox-linked")


def test_link_sklik_against_the_stand_in(page, signed_in, app, monkeypatch,
                                         sklik_stub: SklikStub):
    monkeypatch.setitem(app.config, "PPC_ROBOT_SKLIK_URL", sklik_stub.base_url)
    page.goto("/accounts/link/sklik")
    page.fill("input[name=token]", "not-the-token")
    page.click("main button[type=submit]")
    expect(page.locator(".invalid-feedback")).to_contain_text("Sklik refused the API token")
    expect(page.locator("input[name=token]")).to_have_value("")
    page.fill("input[name=token]", SKLIK_TOKEN)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("agency@example.cz")
    expect(page.locator("table.client-accounts")).to_contain_text("eshop@example.cz")
    screenshot(page, "accounts-sklik-linked")


def test_google_ads_oauth_flow_against_a_stand_in(page, signed_in, app, monkeypatch, live_server,
                                                  google_stub: GoogleStub):
    settings = google_settings(google_stub)
    for key in ("google_ads_url", "google_ads_developer_token", "google_oauth_authorize_url",
                "google_oauth_token_url", "google_client_id", "google_client_secret"):
        monkeypatch.setitem(app.config, f"PPC_ROBOT_{key.upper()}", getattr(settings, key))
    google_stub.redirect_uris.add(f"{live_server.url}/oauth/google-ads/callback")
    page.goto("/accounts/")
    page.click("text=Google Ads")
    page.click("text=Continue to Google Ads")
    expect(page.locator("h1")).to_contain_text("Google Ads 111-222-3333")
    expect(page.locator("table.client-accounts")).to_contain_text("Deep Client GmbH")
    expect(page.locator("table.client-accounts")).to_contain_text("Empty MCC")
    screenshot(page, "accounts-google-ads-linked")


def test_tag_client_accounts_in_bulk(page, signed_in, session):
    tag = ClientAccountTag(user_id=signed_in.user.id, name="euro shops")
    session.add(tag)
    session.commit()
    page.goto("/accounts/")
    page.click("main .link-buttons button:has-text('Sandbox')")
    page.goto("/accounts/client-accounts")
    for name in ("Acme Shoes SK", "Bike Rental Vienna"):
        page.locator("tr", has_text=name).locator("input[type=checkbox]").check()
    page.select_option("form.bulk-tag select[name=bulk-tag_id]", label="euro shops")
    page.click("main form.bulk-tag button[type=submit]")
    expect(page.locator(".alert")).to_contain_text("added to 2 client account(s)")
    page.select_option("form.filters select[name=tag_id]", label="euro shops")
    page.click("main form.filters button[type=submit]")
    rows = page.locator("table.client-accounts tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("euro shops")
    screenshot(page, "client-accounts-bulk-tagged")


def test_set_a_clients_budget_and_target(page, signed_in):
    page.goto("/clients/")
    page.click("text=New client")
    page.fill("input[name=name]", "Bike Rental")
    page.fill("input[name=currency]", "EUR")
    page.fill("input[name=monthly_budget]", "12500")
    page.fill("input[name=target_roas]", "-1")
    page.check(f"input[name=client_account_ids][value='{signed_in.client_account.id}']")
    page.click("main button[type=submit]")
    expect(page.locator(".invalid-feedback")).to_be_visible()
    expect(page.locator("input[name=monthly_budget]")).to_have_value("12500")
    page.fill("input[name=target_roas]", "4.5")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Bike Rental")
    expect(page.locator(".budget")).to_contain_text(re.compile(r"12\D?500"))
    expect(page.locator(".roas")).to_contain_text("4.5")
    expect(page.locator("table.client-accounts")).to_contain_text(signed_in.client_account.name)
    screenshot(page, "client-budget-and-target")


def test_denied_consent_and_a_forged_callback_link_nothing(page, signed_in, app, monkeypatch,
                                                          live_server, google_stub: GoogleStub):
    settings = google_settings(google_stub)
    for key in ("google_ads_url", "google_ads_developer_token", "google_oauth_authorize_url",
                "google_oauth_token_url", "google_client_id", "google_client_secret"):
        monkeypatch.setitem(app.config, f"PPC_ROBOT_{key.upper()}", getattr(settings, key))
    google_stub.redirect_uris.add(f"{live_server.url}/oauth/google-ads/callback")
    google_stub.deny_consent = True
    page.goto("/accounts/link/google-ads")
    page.click("text=Continue to Google Ads")
    expect(page.locator(".alert")).to_contain_text("Google Ads was not linked: you declined access.")
    page.goto("/oauth/google-ads/callback?code=4/0Abforged&state=forged")
    expect(page.locator(".alert")).to_contain_text("could not be matched to this browser session")
    expect(page.locator("table.logins")).not_to_contain_text("Google Ads")
    screenshot(page, "accounts-oauth-refused")
