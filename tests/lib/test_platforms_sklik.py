"""The Sklik adapter against the stand-in, over real HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms import (
    AccessDeniedError,
    BadRequestError,
    InvalidCredentialsError,
    PlatformSettingsError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    TemporaryError,
    make_client,
)
from tests.stubs.sklik import SklikStub
from tests.support import platforms as platform_fixtures
from tests.support.platforms import SKLIK_TOKEN, stub_settings

sklik_stub = platform_fixtures.sklik_stub

ESHOP = RemoteAccount("132256", "eshop@example.cz", "CZK", "Europe/Prague")


def _client(stub: SklikStub, token: str = SKLIK_TOKEN, **settings: object):
    return make_client(Platform.SKLIK, {"token": token},
                       stub_settings(sklik_url=stub.base_url, **settings))


def test_identity_and_managed_accounts(sklik_stub: SklikStub) -> None:
    client = _client(sklik_stub)
    identity = client.check_credentials()
    assert (identity.external_id, identity.name) == ("86796", "agency@example.cz")
    accounts = client.list_accounts()
    assert [(a.external_id, a.name, a.currency, a.time_zone) for a in accounts] == [
        ("86796", "agency@example.cz", "CZK", "Europe/Prague"),
        ("132256", "eshop@example.cz", "CZK", "Europe/Prague"),
        ("132257", "garden@example.cz", "CZK", "Europe/Prague"),
    ]
    login = sklik_stub.requests[0]
    assert login.path == "/drak/json/v5/client.loginByToken"
    assert login.json() == [SKLIK_TOKEN]


def test_a_login_without_managed_accounts_lists_itself(sklik_stub: SklikStub) -> None:
    sklik_stub.add_login("solo-token", 5555, "solo@example.cz")
    accounts = _client(sklik_stub, "solo-token").list_accounts()
    assert [(a.external_id, a.name) for a in accounts] == [("5555", "solo@example.cz")]


def test_wrong_token_is_invalid_credentials(sklik_stub: SklikStub) -> None:
    with pytest.raises(InvalidCredentialsError, match="refused the API token"):
        _client(sklik_stub, "wrong").check_credentials()


def test_daily_campaign_report_pages_and_converts_halers(sklik_stub: SklikStub) -> None:
    sklik_stub.stats_data_limit = 31  # one campaign of 31 days per page
    request = ReportRequest(ESHOP, date(2026, 8, 1), date(2026, 8, 31), ("date", "campaign"))
    rows = list(_client(sklik_stub).fetch_report(request))
    assert len(rows) == 3 * 31
    reads = [r for r in sklik_stub.requests if r.path.endswith("campaigns.readReport")]
    assert [r.json()[2]["offset"] for r in reads] == [0, 1, 2]
    assert all(r.json()[0]["userId"] == 132256 for r in reads)
    first = next(r for r in rows if r.campaign == "Brand" and r.date == date(2026, 8, 1))
    assert first.cost == Decimal("123.45")
    assert first.impressions == 100 and first.clicks == 10
    third = next(r for r in rows if r.campaign == "Brand" and r.date == date(2026, 8, 3))
    assert third.conversion_value == Decimal("918.10")
    assert third.conversions == 2


def test_date_only_report_sums_campaigns(sklik_stub: SklikStub) -> None:
    request = ReportRequest(ESHOP, date(2026, 8, 1), date(2026, 8, 2), ("date",))
    rows = list(_client(sklik_stub).fetch_report(request))
    assert [r.date for r in rows] == [date(2026, 8, 1), date(2026, 8, 2)]
    assert rows[0].impressions == 100 + 200 + 300
    assert rows[0].cost == Decimal("370.35")
    assert rows[0].campaign is None


def test_expired_session_logs_in_again_once(sklik_stub: SklikStub) -> None:
    client = _client(sklik_stub)
    client.check_credentials()
    sklik_stub.expire_sessions()
    assert client.list_accounts()
    logins = [r for r in sklik_stub.requests if r.path.endswith("loginByToken")]
    assert len(logins) == 2


def test_rate_limit_is_retried_with_retry_after(sklik_stub: SklikStub) -> None:
    sklik_stub.fail_next = [("http", 429)]
    assert _client(sklik_stub).check_credentials().external_id == "86796"


def test_rate_limit_that_persists_raises_with_retry_after(sklik_stub: SklikStub) -> None:
    sklik_stub.fail_next = [("http", 429)] * 3
    with pytest.raises(RateLimitedError) as caught:
        _client(sklik_stub, retry_attempts=3).check_credentials()
    assert caught.value.retry_after == 0


def test_server_errors_and_garbage_are_temporary(sklik_stub: SklikStub) -> None:
    sklik_stub.fail_next = [("http", 500), "garbage", ("oddity", 500)]
    with pytest.raises(TemporaryError):
        _client(sklik_stub, retry_attempts=3).check_credentials()
    sklik_stub.fail_next = [("http", 503)]
    assert _client(sklik_stub, retry_attempts=2).check_credentials()


def test_foreign_account_and_bad_request(sklik_stub: SklikStub) -> None:
    stranger = RemoteAccount("999", "not mine", "CZK", "Europe/Prague")
    with pytest.raises(AccessDeniedError):
        list(_client(sklik_stub).fetch_report(
            ReportRequest(stranger, date(2026, 8, 1), date(2026, 8, 2), ("campaign",))))
    sklik_stub.stats_data_limit = 10
    sklik_stub.fail_next = [("body", 400)]
    with pytest.raises(BadRequestError, match="status 400"):
        _client(sklik_stub).check_credentials()


def test_ad_group_report_names_its_campaign(sklik_stub: SklikStub) -> None:
    request = ReportRequest(ESHOP, date(2026, 8, 1), date(2026, 8, 1), ("campaign", "ad_group"))
    rows = list(_client(sklik_stub).fetch_report(request))
    assert [(r.campaign, r.ad_group, r.date) for r in rows] == [
        ("Brand", "Brand — Core", None), ("Generic", "Generic — Core", None),
        ("Remarketing", "Remarketing — Core", None)]
    create = next(r for r in sklik_stub.requests if r.path.endswith("groups.createReport"))
    assert create.json()[2] == {"statGranularity": "total"}


def test_partial_answer_206_counts_as_success_and_login_accepts_a_bare_string(
        sklik_stub: SklikStub) -> None:
    import httpx

    client = _client(sklik_stub)
    client.check_credentials()
    sklik_stub.fail_next = ["partial"]
    assert len(client.list_accounts()) == 3
    bare = httpx.post(f"{sklik_stub.base_url}/client.loginByToken", json=SKLIK_TOKEN)
    assert bare.json()["status"] == 200 and bare.json()["session"]
    unknown = httpx.post(f"{sklik_stub.base_url}/no.such", json=[{"session": "x"}])
    assert unknown.status_code == 404


def test_redirects_are_never_followed(sklik_stub: SklikStub) -> None:
    sklik_stub.fail_next = ["redirect"]
    # followed, the call would fail to connect (TemporaryError); refused, it is a 302
    with pytest.raises(BadRequestError, match="status 302"):
        _client(sklik_stub).check_credentials()


def test_keyword_report_carries_group_and_campaign(sklik_stub: SklikStub) -> None:
    request = ReportRequest(ESHOP, date(2026, 8, 2), date(2026, 8, 2),
                            ("date", "campaign", "ad_group", "keyword", "device"))
    rows = list(_client(sklik_stub).fetch_report(request))
    assert [(r.date, r.campaign, r.ad_group, r.keyword, r.device) for r in rows] == [
        (date(2026, 8, 2), c, f"{c} — Core", f"buy {c.lower()}", None)
        for c in ("Brand", "Generic", "Remarketing")]
    read = next(r for r in sklik_stub.requests if r.path.endswith("keywords.readReport"))
    assert read.json()[2]["displayColumns"][:4] == ["id", "name", "group.name", "campaign.name"]


def _many_small_campaigns(stub: SklikStub) -> dict[str, list]:
    """23 campaigns over two days; every third one had no traffic at all."""
    from tests.stubs.sklik import daily_rows

    campaigns = {}
    for number in range(23):
        rows = daily_rows(date(2026, 8, 1), 2, seed=number + 1)
        if number % 3 == 0:
            rows = [(day, 0, 0, 0, 0, 0) for day, *_ in rows]
        campaigns[f"Campaign {number:02}"] = rows
    stub.accounts[132256].campaigns = campaigns
    stub.stats_data_limit = 10  # daily: five campaigns a page; totals: ten
    return campaigns


@pytest.mark.parametrize("dimensions", [("date",), ("date", "campaign"), ("campaign",)])
def test_pages_short_of_entities_without_statistics_are_not_the_last(
        sklik_stub: SklikStub, dimensions: tuple[str, ...]) -> None:
    campaigns = _many_small_campaigns(sklik_stub)
    request = ReportRequest(ESHOP, date(2026, 8, 1), date(2026, 8, 2), dimensions)

    rows = list(_client(sklik_stub).fetch_report(request))

    expected = [d for days in campaigns.values() for d in days]
    assert sum(r.impressions for r in rows) == sum(d[1] for d in expected)
    assert sum(r.cost for r in rows) == sum(Decimal(d[3]) for d in expected) / 100
    if "campaign" in dimensions:
        assert {r.campaign for r in rows} == {n for n, days in campaigns.items() if days[0][1]}
    reads = [r.json()[2] for r in sklik_stub.requests if r.path.endswith("campaigns.readReport")]
    limit = 5 if "date" in dimensions else 10  # statsDataLimit over the periods of a row
    assert [r["offset"] for r in reads] == list(range(0, 23, limit))
    assert all(r["allowEmptyStatistics"] is False for r in reads)


def test_without_an_entity_count_empty_entities_are_asked_for_and_a_short_page_ends(
        sklik_stub: SklikStub) -> None:
    campaigns = _many_small_campaigns(sklik_stub)
    sklik_stub.omit_total_count = True
    request = ReportRequest(ESHOP, date(2026, 8, 1), date(2026, 8, 2), ("date",))

    rows = list(_client(sklik_stub).fetch_report(request))

    assert sum(r.clicks for r in rows) == sum(d[2] for days in campaigns.values() for d in days)
    reads = [r.json()[2] for r in sklik_stub.requests if r.path.endswith("campaigns.readReport")]
    assert [(r["offset"], r["allowEmptyStatistics"]) for r in reads] == [
        (offset, True) for offset in (0, 5, 10, 15, 20)]


def test_the_own_account_of_a_login_managing_others_is_listed_and_read(
        sklik_stub: SklikStub) -> None:
    own = sklik_stub.accounts[86796]
    own.campaigns = {"Agency brand": [(date(2026, 8, 1), 50, 5, 1000, 0, 0)]}
    client = _client(sklik_stub)

    accounts = {a.external_id: a for a in client.list_accounts()}
    rows = list(client.fetch_report(
        ReportRequest(accounts["86796"], date(2026, 8, 1), date(2026, 8, 1), ("campaign",))))

    assert set(accounts) == {"86796", "132256", "132257"}
    assert [(r.campaign, r.clicks, r.cost) for r in rows] == [("Agency brand", 5, Decimal("10"))]


def test_a_wrong_address_names_its_setting_and_is_not_the_login(sklik_stub: SklikStub) -> None:
    client = make_client(Platform.SKLIK, {"token": SKLIK_TOKEN},
                         stub_settings(sklik_url=sklik_stub.url + "/drak/json/v4"))

    with pytest.raises(PlatformSettingsError) as caught:
        client.check_credentials()

    assert caught.value.setting == "PPC_ROBOT_SKLIK_URL"
    assert "PPC_ROBOT_SKLIK_URL" in str(caught.value)
    assert not isinstance(caught.value, InvalidCredentialsError)
