"""Fixtures for the platform stand-ins and settings that point the adapters at them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ppc_robot.lib.platforms import PlatformSettings
from tests.stubs.google import CLIENT_ID, CLIENT_SECRET, DEVELOPER_TOKEN, Customer, GoogleStub
from tests.stubs.microsoft import CLIENT_ID as MS_CLIENT_ID
from tests.stubs.microsoft import CLIENT_SECRET as MS_CLIENT_SECRET
from tests.stubs.microsoft import DEVELOPER_TOKEN as MS_DEVELOPER_TOKEN
from tests.stubs.microsoft import MicrosoftStub, MsAccount
from tests.stubs.sklik import SklikAccount, SklikStub, daily_rows

SKLIK_TOKEN = "sklik-token-0123456789abcdef-SECRET"


@pytest.fixture
def sklik_stub() -> Iterator[SklikStub]:
    stub = SklikStub().start()
    clients = [
        SklikAccount(132256, "eshop@example.cz", {
            "Brand": daily_rows(date(2026, 8, 1), 31, seed=1),
            "Generic": daily_rows(date(2026, 8, 1), 31, seed=2),
            "Remarketing": daily_rows(date(2026, 8, 1), 31, seed=3),
        }),
        SklikAccount(132257, "garden@example.cz", {}),
    ]
    stub.add_login(SKLIK_TOKEN, 86796, "agency@example.cz", clients)
    yield stub
    stub.stop()


def stub_settings(**urls: object) -> PlatformSettings:
    """Settings for tests: no waiting between retries, quick polls."""
    options: dict[str, object] = {"retry_max_wait_seconds": 0, "report_poll_interval_seconds": 0,
                                  "timeout_seconds": 5}
    options.update(urls)
    return PlatformSettings(**options)  # type: ignore[arg-type]


@pytest.fixture
def google_stub() -> Iterator[GoogleStub]:
    stub = GoogleStub().start()
    stub.add(Customer("1112223333", "Agency MCC", manager=True,
                      children=["1234567890", "7778889999"]))
    stub.add(Customer("1234567890", "Client s.r.o.", campaigns={
        "Brand CZ": [(date(2026, 8, 1), 1520, 84, 1234560000, 3.0, 4590.5),
                     (date(2026, 8, 2), 1400, 70, 1011200001, 2.5, 2100.0)],
        "Generic CZ": [(date(2026, 8, 1), 900, 20, 300000000, 0.0, 0.0)],
    }))
    stub.add(Customer("7778889999", "Sub MCC", manager=True, children=["5556667777"]))
    stub.add(Customer("5556667777", "Deep Client GmbH", currency="EUR",
                      time_zone="Europe/Vienna", status="SUSPENDED"))
    stub.add(Customer("9990001111", "Empty MCC", currency="EUR", manager=True))
    stub.accessible = ["1112223333", "9990001111"]
    yield stub
    stub.stop()


def google_settings(stub: GoogleStub, **extra: object) -> PlatformSettings:
    return stub_settings(
        google_ads_url=stub.url, google_ads_developer_token=DEVELOPER_TOKEN,
        google_oauth_authorize_url=stub.url + "/o/oauth2/v2/auth",
        google_oauth_token_url=stub.url + "/token", google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET, **extra)


@pytest.fixture
def microsoft_stub() -> Iterator[MicrosoftStub]:
    stub = MicrosoftStub().start()
    stub.accounts = [
        MsAccount("149006123", "Bike Rental AT", campaigns={
            "Brand": [(date(2026, 8, 1), 1520, 84, "1234.56", "3", "4590.50"),
                      (date(2026, 8, 2), 1400, 70, "1011.20", "2.5", "2100.00")],
            "Generic": [(date(2026, 8, 1), 300, 9, "20.01", "0", "0.00")],
        }),
        MsAccount("149006124", "Paused Shop", status="Pause", currency="USD",
                  time_zone="PacificTimeUSCanadaTijuana"),
    ]
    yield stub
    stub.stop()


def microsoft_settings(stub: MicrosoftStub, **extra: object) -> PlatformSettings:
    return stub_settings(
        microsoft_customer_url=stub.url, microsoft_reporting_url=stub.url,
        microsoft_campaign_url=stub.url,
        microsoft_developer_token=MS_DEVELOPER_TOKEN,
        microsoft_oauth_authorize_url=stub.url + "/common/oauth2/v2.0/authorize",
        microsoft_oauth_token_url=stub.url + "/common/oauth2/v2.0/token",
        microsoft_client_id=MS_CLIENT_ID, microsoft_client_secret=MS_CLIENT_SECRET, **extra)
