"""The Microsoft Advertising adapter against the stand-in, over real HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ppc_robot.lib.models import ClientAccountStatus, Platform
from ppc_robot.lib.platforms import (
    AccessDeniedError,
    InvalidCredentialsError,
    PlatformSettingsError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    TemporaryError,
    make_client,
)
from tests.stubs.microsoft import MicrosoftStub
from tests.support import platforms as platform_fixtures
from tests.support.platforms import microsoft_settings

microsoft_stub = platform_fixtures.microsoft_stub
BIKES = RemoteAccount("149006123", "Bike Rental AT", "EUR", "Europe/Vienna",
                      extra={"parent_customer_id": "5000"})


def _client(stub: MicrosoftStub, **settings: object):
    return make_client(Platform.MICROSOFT, {"refresh_token": stub.issue_refresh_token()},
                       microsoft_settings(stub, **settings))


def test_user_and_accounts(microsoft_stub: MicrosoftStub) -> None:
    client = _client(microsoft_stub)
    assert client.check_credentials().name == "ppc@agency.example"
    accounts = {a.external_id: a for a in client.list_accounts()}
    assert accounts["149006123"].time_zone == "Europe/Vienna"
    paused = accounts["149006124"]
    assert (paused.currency, paused.status, paused.time_zone) == (
        "USD", ClientAccountStatus.SUSPENDED, "America/Los_Angeles")
    # Microsoft rotates refresh tokens: the newest must be stored
    assert client.updated_credentials()["refresh_token"] in microsoft_stub.refresh_tokens


def test_accounts_are_paged_by_a_thousand(microsoft_stub: MicrosoftStub) -> None:
    from tests.stubs.microsoft import MsAccount

    microsoft_stub.accounts += [MsAccount(str(200000 + i), f"Shop {i:04}") for i in range(1000)]
    assert len(_client(microsoft_stub).list_accounts()) == 1002
    searches = [r.json()["PageInfo"] for r in microsoft_stub.requests
                if r.path.endswith("Accounts/Search")]
    assert searches == [{"Index": 0, "Size": 1000}, {"Index": 1, "Size": 1000}]


def test_report_submit_poll_download(microsoft_stub: MicrosoftStub) -> None:
    microsoft_stub.pending_polls = 2
    request = ReportRequest(BIKES, date(2026, 8, 1), date(2026, 8, 2), ("date", "campaign"))
    rows = list(_client(microsoft_stub).fetch_report(request))
    assert [(r.date, r.campaign, r.cost) for r in rows] == [
        (date(2026, 8, 1), "Brand", Decimal("1234.56")),
        (date(2026, 8, 2), "Brand", Decimal("1011.20")),
        (date(2026, 8, 1), "Generic", Decimal("20.01"))]
    assert rows[1].conversions == Decimal("2.5") and rows[0].conversion_value == Decimal("4590.50")
    polls = [r for r in microsoft_stub.requests if r.path.endswith("Poll")]
    assert len(polls) == 3
    submit = next(r for r in microsoft_stub.requests if r.path.endswith("Submit"))
    assert submit.header("customerid") == "5000" and submit.header("customeraccountid") == BIKES.external_id
    report = submit.json()["ReportRequest"]
    assert report["FormatVersion"] == "2.0" and report["Aggregation"] == "Daily"
    download = next(r for r in microsoft_stub.requests if r.path.startswith("/download/"))
    assert download.header("authorization") is None  # the URL is pre-signed


def test_report_with_headers_and_footer_and_empty_range(microsoft_stub: MicrosoftStub) -> None:
    empty = ReportRequest(BIKES, date(2025, 1, 1), date(2025, 1, 2))
    assert list(_client(microsoft_stub).fetch_report(empty)) == []
    total = list(_client(microsoft_stub).fetch_report(
        ReportRequest(BIKES, date(2026, 8, 1), date(2026, 8, 1), ("campaign",))))
    assert sum(r.impressions for r in total) == 1820


def test_expired_access_token_is_refreshed_once(microsoft_stub: MicrosoftStub) -> None:
    client = _client(microsoft_stub)
    client.check_credentials()
    microsoft_stub.expire_access_tokens()
    assert client.list_accounts()
    assert len([r for r in microsoft_stub.requests if r.path.endswith("/token")]) == 2


def test_revoked_refresh_token(microsoft_stub: MicrosoftStub) -> None:
    client = make_client(Platform.MICROSOFT, {"refresh_token": "M.revoked"},
                         microsoft_settings(microsoft_stub))
    with pytest.raises(InvalidCredentialsError):
        client.check_credentials()


def test_throttling_server_errors_and_refusals(microsoft_stub: MicrosoftStub) -> None:
    microsoft_stub.fail_next = [(429, 117)]
    assert _client(microsoft_stub).check_credentials()
    microsoft_stub.fail_next = [(400, 117)] * 3
    with pytest.raises(RateLimitedError) as caught:
        _client(microsoft_stub, retry_max_wait_seconds=1).check_credentials()
    assert caught.value.retry_after == 60
    microsoft_stub.fail_next = [(500, 0), "garbage", (500, 0)]
    with pytest.raises(TemporaryError):
        _client(microsoft_stub).check_credentials()
    stranger = RemoteAccount("999", "not mine", "EUR", "UTC", extra={"parent_customer_id": "1"})
    with pytest.raises(AccessDeniedError):
        list(_client(microsoft_stub).fetch_report(
            ReportRequest(stranger, date(2026, 8, 1), date(2026, 8, 2))))
    microsoft_stub.report_error = True
    with pytest.raises(TemporaryError, match="failed to build the report"):
        list(_client(microsoft_stub).fetch_report(
            ReportRequest(BIKES, date(2026, 8, 1), date(2026, 8, 2))))


def test_a_stored_access_token_serves_until_refused_then_the_refresh_token_rotates(
        microsoft_stub: MicrosoftStub) -> None:
    linking = _client(microsoft_stub)
    linking.check_credentials()
    stored = linking.updated_credentials()
    assert stored is not None and stored["access_token"] in microsoft_stub.access_tokens
    asked = len([r for r in microsoft_stub.requests if r.path.endswith("/token")])
    request = ReportRequest(BIKES, date(2026, 8, 1), date(2026, 8, 2), ("date",))

    reusing = make_client(Platform.MICROSOFT, stored, microsoft_settings(microsoft_stub))
    assert list(reusing.fetch_report(request))
    assert reusing.updated_credentials() is None
    microsoft_stub.expire_access_tokens()
    refreshing = make_client(Platform.MICROSOFT, stored, microsoft_settings(microsoft_stub))
    assert list(refreshing.fetch_report(request))

    assert len([r for r in microsoft_stub.requests if r.path.endswith("/token")]) == asked + 1
    rotated = refreshing.updated_credentials()
    assert rotated is not None
    assert rotated["refresh_token"] != stored["refresh_token"]
    assert rotated["refresh_token"] in microsoft_stub.refresh_tokens
    assert stored["refresh_token"] not in microsoft_stub.refresh_tokens


def _many_small_campaigns(stub: MicrosoftStub) -> list[tuple]:
    from tests.stubs.microsoft import MsAccount

    days = []
    campaigns = {}
    for number in range(40):
        rows = [(date(2026, 8, d), number + d, 1, f"{number}.0{d}", "0", "0.00") for d in (1, 2)]
        campaigns[f"Campaign {number:02}"] = rows
        days += rows
    stub.accounts.append(MsAccount("149006999", "Many Campaigns", campaigns=campaigns))
    return days


def test_a_report_of_many_small_campaigns_arrives_whole(microsoft_stub: MicrosoftStub) -> None:
    days = _many_small_campaigns(microsoft_stub)
    client = _client(microsoft_stub)
    account = next(a for a in client.list_accounts() if a.external_id == "149006999")

    rows = list(client.fetch_report(
        ReportRequest(account, date(2026, 8, 1), date(2026, 8, 2), ("date", "campaign"))))

    assert len(rows) == len(days) == 80
    assert sum(r.impressions for r in rows) == sum(d[1] for d in days)
    assert sum(r.cost for r in rows) == sum(Decimal(d[3]) for d in days)


@pytest.mark.parametrize("cut_at", [0, 17, 79])
def test_a_report_file_that_breaks_off_is_not_taken_for_a_short_report(
        microsoft_stub: MicrosoftStub, cut_at: int) -> None:
    _many_small_campaigns(microsoft_stub)
    microsoft_stub.cut_report_at_row = cut_at
    client = _client(microsoft_stub)
    account = next(a for a in client.list_accounts() if a.external_id == "149006999")

    with pytest.raises(TemporaryError, match="incomplete"):
        list(client.fetch_report(
            ReportRequest(account, date(2026, 8, 1), date(2026, 8, 2), ("date", "campaign"))))


def _misconfigured(stub: MicrosoftStub, **wrong: object):
    from dataclasses import replace

    return make_client(Platform.MICROSOFT, {"refresh_token": stub.issue_refresh_token()},
                       replace(microsoft_settings(stub), **wrong))


def test_a_wrong_developer_token_names_its_setting_and_is_not_the_login(
        microsoft_stub: MicrosoftStub) -> None:
    client = _misconfigured(microsoft_stub, microsoft_developer_token="not-the-token")

    with pytest.raises(PlatformSettingsError) as caught:
        client.check_credentials()

    assert caught.value.setting == "PPC_ROBOT_MICROSOFT_DEVELOPER_TOKEN"
    assert "105" in str(caught.value) and caught.value.setting in str(caught.value)
    assert not isinstance(caught.value, InvalidCredentialsError)
    # one refresh to rule out a stale access token, then no more
    assert sum(r.path.endswith("/token") for r in microsoft_stub.requests) == 2


def test_a_wrong_oauth_client_names_its_setting(microsoft_stub: MicrosoftStub) -> None:
    client = _misconfigured(microsoft_stub, microsoft_client_secret="wrong")

    with pytest.raises(PlatformSettingsError, match="invalid_client") as caught:
        client.check_credentials()

    assert caught.value.setting.startswith("PPC_ROBOT_MICROSOFT_CLIENT_ID")


@pytest.mark.parametrize("code", [108, 120, 122])
def test_faults_of_the_users_login_ask_for_re_authorising(
        microsoft_stub: MicrosoftStub, code: int) -> None:
    microsoft_stub.fail_next = [(401, code)]

    with pytest.raises(InvalidCredentialsError, match=str(code)):
        _client(microsoft_stub).check_credentials()


def test_a_stale_token_refused_as_invalid_credentials_is_refreshed_once(
        microsoft_stub: MicrosoftStub) -> None:
    microsoft_stub.fail_next = [(401, 105)]

    assert _client(microsoft_stub).check_credentials().name == "ppc@agency.example"
