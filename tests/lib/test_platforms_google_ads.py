"""The Google Ads adapter and the OAuth flow against the stand-in, over real HTTP."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ppc_robot.lib.models import ClientAccountStatus, Platform, utcnow
from ppc_robot.lib.platforms import (
    AccessDeniedError,
    BadRequestError,
    InvalidCredentialsError,
    PlatformSettingsError,
    QuotaExhaustedError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    RevokedCredentialsError,
    TemporaryError,
    make_client,
)
from ppc_robot.lib.platforms.oauth import (
    OAuthProvider,
    authorization_url,
    exchange_code,
    new_pkce,
    new_state,
)
from tests.stubs.google import GoogleStub
from tests.support import platforms as platform_fixtures
from tests.support.platforms import google_settings

google_stub = platform_fixtures.google_stub
CLIENT = RemoteAccount("1234567890", "Client s.r.o.", "CZK", "Europe/Prague")


def _client(stub: GoogleStub, **settings: object):
    return make_client(Platform.GOOGLE_ADS, {"refresh_token": stub.issue_refresh_token()},
                       google_settings(stub, **settings))


def test_hierarchy_lists_leaves_and_a_lone_manager(google_stub: GoogleStub) -> None:
    accounts = {a.external_id: a for a in _client(google_stub).list_accounts()}
    assert set(accounts) == {"1234567890", "5556667777", "9990001111"}
    deep = accounts["5556667777"]
    assert (deep.currency, deep.time_zone, deep.status) == (
        "EUR", "Europe/Vienna", ClientAccountStatus.SUSPENDED)
    assert deep.extra == {"login_customer_id": "1112223333"}
    searches = [r for r in google_stub.requests if r.path.endswith("searchStream")]
    assert all(r.header("login-customer-id") for r in searches)
    listing = next(r for r in google_stub.requests if "listAccessible" in r.path)
    assert listing.path.startswith("/v25/") and listing.header("login-customer-id") is None


def test_report_converts_micros_exactly_and_streams_batches(google_stub: GoogleStub) -> None:
    request = ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2), ("date", "campaign"))
    rows = list(_client(google_stub).fetch_report(request))
    assert [(r.date, r.campaign) for r in rows] == [
        (date(2026, 8, 1), "Brand CZ"), (date(2026, 8, 2), "Brand CZ"),
        (date(2026, 8, 1), "Generic CZ")]
    assert rows[0].cost == Decimal("1234.56") and rows[1].cost == Decimal("1011.200001")
    assert rows[0].conversion_value == Decimal("4590.5") and rows[1].conversions == Decimal("2.5")
    query = next(r for r in google_stub.requests if r.path.endswith("searchStream")
                 and "FROM campaign" in r.json()["query"])
    assert "pageSize" not in query.json()
    assert query.header("login-customer-id") == "1112223333"
    assert query.header("developer-token")


def test_expired_access_token_is_refreshed_once(google_stub: GoogleStub) -> None:
    client = _client(google_stub)
    client.check_credentials()
    google_stub.expire_access_tokens()
    assert client.list_accounts()
    assert len([r for r in google_stub.requests if r.path == "/token"]) == 2


def test_revoked_refresh_token(google_stub: GoogleStub) -> None:
    client = make_client(Platform.GOOGLE_ADS, {"refresh_token": "1//revoked"},
                         google_settings(google_stub))
    with pytest.raises(RevokedCredentialsError):
        client.check_credentials()


def test_quota_error_carries_retry_delay(google_stub: GoogleStub) -> None:
    google_stub.fail_next = [(429, {"quotaError": "RESOURCE_EXHAUSTED"}, "3600s")]
    with pytest.raises(RateLimitedError) as caught:
        _client(google_stub).check_credentials()
    assert caught.value.retry_after == 3600


def test_short_rate_limit_and_server_error_are_retried(google_stub: GoogleStub) -> None:
    google_stub.fail_next = [(429, {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"}, "0s"),
                             (500, {"internalError": "TRANSIENT_ERROR"}, None)]
    assert _client(google_stub).check_credentials().external_id == "1112223333"


def test_garbage_is_temporary_and_refusals_are_typed(google_stub: GoogleStub) -> None:
    google_stub.fail_next = ["garbage"]
    with pytest.raises(TemporaryError):
        list(_client(google_stub, retry_attempts=1).fetch_report(
            ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2))))
    google_stub.fail_next = [(403, {"authorizationError": "DEVELOPER_TOKEN_NOT_APPROVED"}, None)]
    with pytest.raises(BadRequestError, match="developer token"):
        _client(google_stub).check_credentials()
    stranger = RemoteAccount("5550000000", "not reachable", "CZK", "UTC",
                             extra={"login_customer_id": "1112223333"})
    google_stub.add(type(google_stub.customers["1234567890"])("5550000000", "Stranger"))
    with pytest.raises(AccessDeniedError):
        list(_client(google_stub).fetch_report(
            ReportRequest(stranger, date(2026, 8, 1), date(2026, 8, 2))))
    google_stub.fail_next = [(401, {"authenticationError": "OAUTH_TOKEN_INVALID"}, None)] * 2
    with pytest.raises(InvalidCredentialsError):
        _client(google_stub).check_credentials()


def test_authorization_code_flow_with_pkce(google_stub: GoogleStub) -> None:
    settings = google_settings(google_stub)
    provider = OAuthProvider.of(Platform.GOOGLE_ADS, settings)
    redirect_uri = "http://127.0.0.1:1/oauth/google_ads/callback"
    google_stub.redirect_uris.add(redirect_uri)
    state, (verifier, challenge) = new_state(), new_pkce()
    url = authorization_url(provider, redirect_uri=redirect_uri, state=state,
                            code_challenge=challenge)
    consent = httpx.get(url, follow_redirects=False)
    back = parse_qs(urlsplit(consent.headers["Location"]).query)
    assert back["state"] == [state]
    with pytest.raises(InvalidCredentialsError):
        exchange_code(provider, settings, code=back["code"][0], redirect_uri=redirect_uri,
                      code_verifier="wrong" * 10)
    consent = httpx.get(url, follow_redirects=False)
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    tokens = exchange_code(provider, settings, code=code, redirect_uri=redirect_uri,
                           code_verifier=verifier)
    assert tokens["refresh_token"] in google_stub.refresh_tokens
    with pytest.raises(InvalidCredentialsError):  # a code works once
        exchange_code(provider, settings, code=code, redirect_uri=redirect_uri,
                      code_verifier=verifier)


def test_account_daily_totals_query_the_customer_resource(google_stub: GoogleStub) -> None:
    rows = list(_client(google_stub).fetch_report(
        ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2), ("date",))))
    assert [(r.date, r.impressions, r.cost) for r in rows] == [
        (date(2026, 8, 1), 2420, Decimal("1534.56")), (date(2026, 8, 2), 1400,
                                                        Decimal("1011.200001"))]
    query = [r.json()["query"] for r in google_stub.requests if r.path.endswith("searchStream")]
    assert query[-1].startswith("SELECT segments.date, metrics.impressions")
    assert "FROM customer WHERE segments.date BETWEEN '2026-08-01' AND '2026-08-02'" in query[-1]


def test_array_framed_stream_errors_and_daily_quota(google_stub: GoogleStub) -> None:
    client = _client(google_stub)
    client.check_credentials()
    google_stub.wrap_stream_errors = True
    google_stub.fail_next = [(429, {"quotaError": "RESOURCE_EXHAUSTED"}, "86400s")]
    with pytest.raises(QuotaExhaustedError, match="quota exhausted .*, next attempt at") as caught:
        list(client.fetch_report(ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2))))
    assert caught.value.next_attempt_at > utcnow() + timedelta(hours=23)
    google_stub.fail_next = [(429, {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"}, "30s")]
    with pytest.raises(RateLimitedError, match="RESOURCE_TEMPORARILY_EXHAUSTED"):
        list(client.fetch_report(ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2))))


def test_keyword_and_device_report(google_stub: GoogleStub) -> None:
    request = ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 1),
                            ("date", "campaign", "ad_group", "keyword", "device"))
    rows = list(_client(google_stub).fetch_report(request))
    assert [(r.campaign, r.ad_group, r.keyword, r.device) for r in rows] == [
        ("Brand CZ", "Brand CZ — Core", "buy brand cz", "desktop"),
        ("Generic CZ", "Generic CZ — Core", "buy generic cz", "desktop")]
    query = [r.json()["query"] for r in google_stub.requests if r.path.endswith("searchStream")][-1]
    assert " FROM keyword_view " in query and "segments.device" in query


def _tokens(stub: GoogleStub) -> list[str]:
    return [r.path for r in stub.requests if r.path == "/token"]


def _linked_credentials(stub: GoogleStub) -> dict[str, str]:
    """Credentials as linking stores them: the refresh token and the access token it brought."""
    client = _client(stub)
    client.check_credentials()
    stored = client.updated_credentials()
    assert stored is not None
    return stored


def test_a_stored_valid_access_token_is_used_without_asking_for_another(
        google_stub: GoogleStub) -> None:
    credentials = _linked_credentials(google_stub)
    asked = len(_tokens(google_stub))

    client = make_client(Platform.GOOGLE_ADS, credentials, google_settings(google_stub))
    rows = list(client.fetch_report(ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2))))

    assert rows and len(_tokens(google_stub)) == asked
    assert client.updated_credentials() is None  # nothing new to store
    assert credentials["access_token"] in google_stub.access_tokens
    assert datetime.fromisoformat(credentials["access_token_expires_at"]) > utcnow() + timedelta(
        minutes=59)


def test_a_refused_stored_token_is_refreshed_once_for_all_threads(
        google_stub: GoogleStub) -> None:
    credentials = _linked_credentials(google_stub)
    google_stub.expire_access_tokens()  # revoked or expired early on Google's side
    asked = len(_tokens(google_stub))
    client = make_client(Platform.GOOGLE_ADS, credentials, google_settings(google_stub))
    request = ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2))
    results: list[int] = []

    def fetch() -> None:
        results.append(len(list(client.fetch_report(request))))

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [2] * 6
    assert len(_tokens(google_stub)) == asked + 1
    refreshed = client.updated_credentials()
    assert refreshed is not None
    assert refreshed["refresh_token"] == credentials["refresh_token"]
    assert refreshed["access_token"] != credentials["access_token"]
    assert refreshed["access_token"] in google_stub.access_tokens


def test_a_stored_token_about_to_expire_is_refreshed_before_the_call(
        google_stub: GoogleStub) -> None:
    credentials = _linked_credentials(google_stub)
    soon = (utcnow() + timedelta(minutes=2)).isoformat()
    asked = len(_tokens(google_stub))
    calls = len(google_stub.requests)

    client = make_client(Platform.GOOGLE_ADS, credentials | {"access_token_expires_at": soon},
                         google_settings(google_stub))
    client.check_credentials()

    assert len(_tokens(google_stub)) == asked + 1
    assert len(google_stub.requests) == calls + 2  # the refresh, then one accepted call


def test_a_revoked_login_asks_for_a_token_once_however_many_calls_follow(
        google_stub: GoogleStub) -> None:
    credentials = _linked_credentials(google_stub)
    google_stub.revoke(credentials["refresh_token"])
    google_stub.expire_access_tokens()
    asked = len(_tokens(google_stub))
    client = make_client(Platform.GOOGLE_ADS, credentials, google_settings(google_stub))

    for _ in range(3):
        with pytest.raises(RevokedCredentialsError):
            list(client.fetch_report(ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2))))

    assert len(_tokens(google_stub)) == asked + 1


def test_the_manager_stored_at_sync_reaches_the_account_without_the_hierarchy(
        google_stub: GoogleStub) -> None:
    synced = {a.external_id: a for a in _client(google_stub).list_accounts()}
    deep = synced["5556667777"]
    google_stub.customers["5556667777"].campaigns = {
        "Alpen": [(date(2026, 8, 1), 10, 1, 1000000, 0.0, 0.0)]}
    calls = len(google_stub.requests)

    rows = list(_client(google_stub).fetch_report(
        ReportRequest(deep, date(2026, 8, 1), date(2026, 8, 1), ("date", "campaign"))))

    assert [r.campaign for r in rows] == ["Alpen"]
    made = google_stub.requests[calls:]
    assert [r.path for r in made] == ["/token", "/v25/customers/5556667777/googleAds:searchStream"]
    assert made[1].header("login-customer-id") == "1112223333"


def test_a_manager_that_no_longer_reaches_the_account_falls_back_to_the_hierarchy(
        google_stub: GoogleStub) -> None:
    moved = RemoteAccount("1234567890", "Client s.r.o.", "CZK", "Europe/Prague",
                          extra={"login_customer_id": "9990001111"})  # the account moved away

    rows = list(_client(google_stub).fetch_report(
        ReportRequest(moved, date(2026, 8, 1), date(2026, 8, 2), ("date", "campaign"))))

    assert len(rows) == 3
    logins = [r.header("login-customer-id") for r in google_stub.requests
              if r.path.endswith("1234567890/googleAds:searchStream")]
    assert logins == ["9990001111", "1112223333"]


def _many_small_campaigns(stub: GoogleStub) -> list[tuple]:
    days = []
    campaigns = {}
    for number in range(41):
        rows = [(date(2026, 8, d), number + d, 1, 10_000 * number + d, 0.0, 0.0) for d in (1, 2)]
        campaigns[f"Campaign {number:02}"] = rows
        days += rows
    stub.customers["1234567890"].campaigns = campaigns
    return days


def test_a_stream_of_many_batches_arrives_whole(google_stub: GoogleStub) -> None:
    days = _many_small_campaigns(google_stub)

    rows = list(_client(google_stub).fetch_report(
        ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2), ("date", "campaign"))))

    assert len(rows) == len(days) == 82  # in 41 batches of the stand-in
    assert sum(r.impressions for r in rows) == sum(d[1] for d in days)
    assert sum(r.cost for r in rows) == sum(Decimal(d[3]) for d in days) / 1_000_000


@pytest.mark.parametrize("cut_after", [0, 1, 40])
def test_a_stream_that_breaks_off_between_batches_is_not_taken_for_a_short_report(
        google_stub: GoogleStub, cut_after: int) -> None:
    _many_small_campaigns(google_stub)
    google_stub.cut_stream_after = cut_after  # the hierarchy still arrives whole
    client = _client(google_stub, retry_attempts=1)

    with pytest.raises(TemporaryError, match="not JSON"):
        list(client.fetch_report(
            ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2), ("date", "campaign"))))


def _misconfigured(stub: GoogleStub, **wrong: object):
    """A client of an installation with some settings wrong."""
    from dataclasses import replace

    return make_client(Platform.GOOGLE_ADS, {"refresh_token": stub.issue_refresh_token()},
                       replace(google_settings(stub), **wrong))


def _refused_settings(client) -> PlatformSettingsError:
    with pytest.raises(PlatformSettingsError) as caught:
        client.check_credentials()
    return caught.value


def test_a_wrong_developer_token_names_its_setting_and_is_not_the_login(
        google_stub: GoogleStub) -> None:
    error = _refused_settings(_misconfigured(google_stub, google_ads_developer_token="not-the-token"))

    assert error.setting == "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN"
    assert "DEVELOPER_TOKEN_INVALID" in str(error) and error.setting in str(error)
    assert not isinstance(error, InvalidCredentialsError)
    assert len(_tokens(google_stub)) == 1  # no refresh of a token that was never the problem


@pytest.mark.parametrize("code", [
    {"authorizationError": "DEVELOPER_TOKEN_NOT_APPROVED"},
    {"authorizationError": "DEVELOPER_TOKEN_PROHIBITED"},
    {"authenticationError": "ORGANIZATION_NOT_ASSOCIATED_WITH_DEVELOPER_TOKEN"},
])
def test_developer_token_refusals_are_the_installations(google_stub: GoogleStub, code) -> None:
    status = 401 if "authenticationError" in code else 403
    google_stub.fail_next = [(status, code, None)]

    assert _refused_settings(_client(google_stub)).setting == "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN"


def test_a_sunset_api_version_names_the_version_setting(google_stub: GoogleStub) -> None:
    google_stub.sunset_versions = {"v19"}

    error = _refused_settings(_misconfigured(google_stub, google_ads_version="v19"))

    assert error.setting == "PPC_ROBOT_GOOGLE_ADS_VERSION"
    assert "v19" in str(error) and "UNSUPPORTED_VERSION" in str(error)


def test_a_wrong_oauth_client_or_address_names_its_setting(google_stub: GoogleStub) -> None:
    error = _refused_settings(_misconfigured(google_stub, google_client_secret="wrong"))
    assert "invalid_client" in str(error)
    assert error.setting == "PPC_ROBOT_GOOGLE_CLIENT_ID and PPC_ROBOT_GOOGLE_CLIENT_SECRET"

    error = _refused_settings(_misconfigured(google_stub, google_ads_url=google_stub.url + "/elsewhere"))
    assert error.setting == "PPC_ROBOT_GOOGLE_ADS_URL"


def test_an_oauth_client_refusal_is_not_asked_for_again_by_every_call(
        google_stub: GoogleStub) -> None:
    client = _misconfigured(google_stub, google_client_secret="wrong")

    for _ in range(3):
        with pytest.raises(PlatformSettingsError):
            list(client.fetch_report(ReportRequest(CLIENT, date(2026, 8, 1), date(2026, 8, 2))))

    assert len(_tokens(google_stub)) == 1


def test_a_revoked_grant_is_the_users(google_stub: GoogleStub) -> None:
    google_stub.fail_next = [(401, {"authenticationError": "OAUTH_TOKEN_REVOKED"}, None)] * 2
    with pytest.raises(RevokedCredentialsError, match="revoked"):
        _client(google_stub).check_credentials()
    google_stub.fail_next = [(401, {"authenticationError": "CUSTOMER_NOT_FOUND"}, None)]
    with pytest.raises(AccessDeniedError):
        _client(google_stub).check_credentials()
