"""Access tokens against the stand-in token endpoints: how often a login asks for a new one."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from ppc_robot.lib.models import Platform, utcnow
from ppc_robot.lib.platforms import RemoteAccount, ReportRequest, make_client
from ppc_robot.lib.platforms.oauth import AccessTokens, OAuthProvider
from tests.stubs.google import GoogleStub
from tests.stubs.microsoft import MicrosoftStub
from tests.support import platforms as platform_fixtures
from tests.support.platforms import google_settings, microsoft_settings

google_stub = platform_fixtures.google_stub
microsoft_stub = platform_fixtures.microsoft_stub
GOOGLE_CLIENT = RemoteAccount("1234567890", "Client s.r.o.", "CZK", "Europe/Prague")
BIKES = RemoteAccount("149006123", "Bike Rental AT", "EUR", "Europe/Vienna",
                      extra={"parent_customer_id": "5000"})
AUGUST = (date(2026, 8, 1), date(2026, 8, 2))


def _refreshes(stub: GoogleStub | MicrosoftStub) -> int:
    return sum(r.path.endswith("/token") for r in stub.requests)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def test_google_tokens_shorter_lived_than_the_margin_serve_many_calls(
        google_stub: GoogleStub) -> None:
    google_stub.access_token_seconds = 60  # far less than the five minutes' margin
    client = make_client(Platform.GOOGLE_ADS, {"refresh_token": google_stub.issue_refresh_token()},
                         google_settings(google_stub))

    client.list_accounts()
    for _ in range(4):
        assert list(client.fetch_report(ReportRequest(GOOGLE_CLIENT, *AUGUST)))

    assert _refreshes(google_stub) == 1
    stored = client.updated_credentials()
    assert stored is not None and stored["access_token_lifetime_seconds"] == 60


def test_microsoft_tokens_shorter_lived_than_the_margin_serve_many_calls(
        microsoft_stub: MicrosoftStub) -> None:
    microsoft_stub.access_token_seconds = 120
    client = make_client(Platform.MICROSOFT,
                         {"refresh_token": microsoft_stub.issue_refresh_token()},
                         microsoft_settings(microsoft_stub))

    client.list_accounts()
    for _ in range(3):
        assert list(client.fetch_report(ReportRequest(BIKES, *AUGUST)))

    assert _refreshes(microsoft_stub) == 1


def test_a_stored_short_lived_token_is_used_while_it_lasts(google_stub: GoogleStub) -> None:
    google_stub.access_token_seconds = 90
    linking = make_client(Platform.GOOGLE_ADS,
                          {"refresh_token": google_stub.issue_refresh_token()},
                          google_settings(google_stub))
    linking.check_credentials()
    stored = linking.updated_credentials()
    assert stored is not None

    later = make_client(Platform.GOOGLE_ADS, stored, google_settings(google_stub))
    later.check_credentials()

    assert _refreshes(google_stub) == 1
    assert later.updated_credentials() is None


@pytest.mark.parametrize("lifetime", [20, 60, 299, 3600])
def test_each_token_is_refreshed_once_near_the_end_of_its_life(
        google_stub: GoogleStub, lifetime: int) -> None:
    google_stub.access_token_seconds = lifetime
    settings = google_settings(google_stub)
    clock = Clock()
    tokens = AccessTokens(OAuthProvider.of(Platform.GOOGLE_ADS, settings), settings,
                          {"refresh_token": google_stub.issue_refresh_token()}, clock=clock)
    started = clock.now
    issued: dict[str, datetime] = {}
    horizon = 10 * lifetime

    while clock.now < started + timedelta(seconds=horizon):
        token = tokens.current()
        issued.setdefault(token, clock.now)
        # never used at or past its end
        assert clock.now < issued[token] + timedelta(seconds=lifetime)
        clock.now += timedelta(seconds=max(lifetime / 30, 1))

    # one refresh per token, each token serving at least three quarters of its life
    assert _refreshes(google_stub) == len(issued)
    assert 10 <= len(issued) <= horizon / (lifetime * 0.75) + 1
