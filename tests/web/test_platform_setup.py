"""Linking a platform whose OAuth client this server has not been given: said, never attempted."""

from __future__ import annotations

import pytest

from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms import PlatformSettings
from ppc_robot.lib.platforms.availability import (
    PlatformNotConfigured,
    missing_settings,
    require_configured,
)

GOOGLE_KEYS = ["PPC_ROBOT_GOOGLE_CLIENT_ID", "PPC_ROBOT_GOOGLE_CLIENT_SECRET",
               "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN"]
MICROSOFT_KEYS = ["PPC_ROBOT_MICROSOFT_CLIENT_ID", "PPC_ROBOT_MICROSOFT_CLIENT_SECRET",
                  "PPC_ROBOT_MICROSOFT_DEVELOPER_TOKEN"]


@pytest.fixture
def unconfigured(app, monkeypatch):
    for key in GOOGLE_KEYS + MICROSOFT_KEYS:
        monkeypatch.setitem(app.config, key, "")
        monkeypatch.delenv(key, raising=False)


@pytest.mark.parametrize("slug, label, keys", [
    ("google-ads", "Google Ads", GOOGLE_KEYS), ("microsoft", "Microsoft Advertising", MICROSOFT_KEYS)])
def test_an_unconfigured_platform_is_said_to_be_not_set_up_with_the_settings_it_needs(
        client, login, user, unconfigured, slug, label, keys):
    login(user)

    accounts = client.get("/accounts/").text
    link_page = client.get(f"/accounts/link/{slug}").text
    authorize = client.get(f"/accounts/link/{slug}/authorize")

    assert f"{label} is not set up on this server" in accounts
    assert f'href="/accounts/link/{slug}"' not in accounts  # no dead button
    assert "continue-oauth" not in link_page and f"{label} is not set up on this server" in link_page
    assert all(key in link_page for key in keys)
    assert authorize.status_code == 409  # refused in words, never a redirect to the provider
    assert "client_id=" not in authorize.headers.get("Location", "")
    assert all(key in authorize.text for key in keys)


def test_a_configured_platform_keeps_its_link_button(app, client, login, user, unconfigured, monkeypatch):
    for key in GOOGLE_KEYS:
        monkeypatch.setitem(app.config, key, "set")
    login(user)

    accounts = client.get("/accounts/").text

    assert 'href="/accounts/link/google-ads"' in accounts
    assert "Microsoft Advertising is not set up on this server" in accounts


def test_only_the_missing_settings_are_named():
    settings = PlatformSettings(google_client_id="id", google_ads_developer_token="token")

    assert missing_settings(Platform.GOOGLE_ADS, settings) == ["PPC_ROBOT_GOOGLE_CLIENT_SECRET"]
    assert missing_settings(Platform.SANDBOX, settings) == []
    with pytest.raises(PlatformNotConfigured, match="PPC_ROBOT_GOOGLE_CLIENT_SECRET"):
        require_configured(Platform.GOOGLE_ADS, settings)
