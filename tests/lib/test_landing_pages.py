"""Landing pages of ads, keywords and sitelinks from each platform's stand-in, over real HTTP."""

from __future__ import annotations

import pytest

from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms import (
    AccessDeniedError,
    InvalidCredentialsError,
    PlatformSettingsError,
    RateLimitedError,
    RemoteAccount,
    TemporaryError,
    make_client,
)
from ppc_robot.lib.platforms.base import LandingPage
from ppc_robot.lib.platforms.landing import (
    append_suffix,
    landing_url,
    planned_calls,
    resolve_placeholders,
)
from tests.stubs.google import Entity, GoogleStub
from tests.stubs.sklik import SklikStub
from tests.support import platforms as platform_fixtures
from tests.support.platforms import SKLIK_TOKEN, google_settings, stub_settings

google_stub = platform_fixtures.google_stub
sklik_stub = platform_fixtures.sklik_stub
GOOGLE_CLIENT = RemoteAccount("1234567890", "Client s.r.o.", "CZK", "Europe/Prague",
                              extra={"login_customer_id": "1112223333"})


# --- the shared helpers ----------------------------------------------------------------------

@pytest.mark.parametrize(("url", "suffix", "expected"), [
    ("https://a.example/", "utm_source=x", "https://a.example/?utm_source=x"),
    ("https://a.example/p?id=1", "?utm_source=x", "https://a.example/p?id=1&utm_source=x"),
    ("https://a.example/p?", "&a=1", "https://a.example/p?a=1"),
    ("https://a.example/p#top", "a=1", "https://a.example/p?a=1#top"),
    ("https://a.example/p", "", "https://a.example/p"),
    ("https://a.example/p", None, "https://a.example/p"),
])
def test_a_suffix_joins_the_query_before_the_fragment(url, suffix, expected) -> None:
    assert append_suffix(url, suffix) == expected


def test_known_placeholders_are_filled_and_the_rest_stripped() -> None:
    url = "https://a.example/{_cat}/x?kw={KeyWord}&g={gclid}&m=a{device}b&{ignore}&z=1#{x}"

    resolved = resolve_placeholders(url, {"_cat": "boty & kozačky", "keyword": "red shoes"})

    assert resolved == "https://a.example/boty%20%26%20koza%C4%8Dky/x?kw=red%20shoes&m=ab&z=1"


def test_a_url_without_placeholders_is_kept_as_typed() -> None:
    url = "https://a.example/p?q=a%20b&&x"

    assert landing_url(f"  {url} ") == url


# --- Google Ads ------------------------------------------------------------------------------

def _google_world(stub: GoogleStub) -> None:
    customer = stub.customers["1234567890"]
    customer.final_url_suffix = "src=account"

    def add(resource: str, parent: object, fields: dict[str, object]) -> None:
        customer.entities.append(Entity(resource, fields, None if parent is None else str(parent)))

    def campaign(cid: int, name: str, status: str, **extra: object) -> None:
        add("campaign", None, {"campaign.id": cid, "campaign.name": name,
                               "campaign.status": status,
                               **{f"campaign.{k}": v for k, v in extra.items()}})

    def group(gid: int, cid: int, name: str, status: str) -> None:
        add("ad_group", cid, {"ad_group.id": gid, "ad_group.name": name,
                              "ad_group.status": status})

    campaign(11, "Brand CZ", "ENABLED", final_url_suffix="utm_source=google&utm_campaign={campaignid}",
             url_custom_parameters={"season": "winter"})
    campaign(12, "Sale", "PAUSED")
    campaign(13, "Old", "REMOVED")
    group(21, 11, "Core", "ENABLED")
    group(22, 11, "Resting", "PAUSED")
    group(23, 12, "Sale group", "ENABLED")
    group(24, 13, "Old group", "ENABLED")
    group(25, 11, "Removed group", "REMOVED")

    def ad(aid: int, gid: int, status: str, urls: list[str], mobile: list[str] | None = None,
           suffix: str = "") -> None:
        add("ad_group_ad", gid, {"ad_group_ad.status": status, "ad_group_ad.ad.id": aid,
                                 "ad_group_ad.ad.final_urls": urls,
                                 "ad_group_ad.ad.final_mobile_urls": mobile or [],
                                 "ad_group_ad.ad.final_url_suffix": suffix})

    ad(31, 21, "ENABLED", ["https://shop.example/boots?c={_season}"],
       ["https://m.shop.example/boots"])
    ad(32, 21, "PAUSED", ["https://shop.example/sale#top"], suffix="g={gclid}&ref=ad{creative}")
    ad(33, 21, "REMOVED", ["https://shop.example/removed-ad"])
    ad(34, 22, "ENABLED", ["https://shop.example/resting"])
    ad(35, 23, "ENABLED", ["https://shop.example/sale-campaign"])
    ad(36, 24, "ENABLED", ["https://shop.example/under-removed-campaign"])
    ad(37, 25, "ENABLED", ["https://shop.example/under-removed-group"])

    def keyword(kid: int, gid: int, status: str, text: str, urls: list[str],
                negative: bool = False) -> None:
        add("ad_group_criterion", gid, {
            "ad_group_criterion.criterion_id": kid, "ad_group_criterion.status": status,
            "ad_group_criterion.type": "KEYWORD", "ad_group_criterion.negative": negative,
            "ad_group_criterion.final_urls": urls, "ad_group_criterion.keyword.text": text})

    keyword(41, 21, "ENABLED", "winter boots", ["https://shop.example/kw?q={keyword}"])
    keyword(42, 21, "ENABLED", "boots", [])
    keyword(43, 21, "REMOVED", "old boots", ["https://shop.example/removed-keyword"])
    keyword(44, 21, "ENABLED", "cheap", ["https://shop.example/negative"], negative=True)
    keyword(45, 22, "ENABLED", "resting boots", ["https://shop.example/kw-resting"])

    def sitelink(resource: str, parent: int | None, aid: int, status: str, url: str,
                 field_type: str = "SITELINK") -> None:
        add(resource, parent, {f"{resource}.status": status, f"{resource}.field_type": field_type,
                               "asset.id": aid, "asset.final_urls": [url],
                               "asset.sitelink_asset.link_text": f"Link {aid}"})

    sitelink("customer_asset", None, 51, "ENABLED", "https://shop.example/contact")
    sitelink("campaign_asset", 11, 52, "ENABLED", "https://shop.example/delivery")
    sitelink("campaign_asset", 11, 53, "REMOVED", "https://shop.example/removed-link")
    sitelink("campaign_asset", 13, 54, "ENABLED", "https://shop.example/link-of-removed")
    sitelink("campaign_asset", 11, 56, "ENABLED", "https://shop.example/callout", "CALLOUT")
    sitelink("ad_group_asset", 21, 55, "PAUSED", "https://shop.example/returns")


def _google(stub: GoogleStub, **settings: object):
    return make_client(Platform.GOOGLE_ADS, {"refresh_token": stub.issue_refresh_token()},
                       google_settings(stub, **settings))


def _brand(entity_type: str, entity_id: str, url: str, group: tuple[str, str] = ("21", "Core"),
           paused: bool = False) -> LandingPage:
    return LandingPage(url, entity_type, entity_id, "11", "Brand CZ", *group, paused=paused)


def test_google_lists_every_landing_page_with_suffixes_and_parameters(
        google_stub: GoogleStub) -> None:
    _google_world(google_stub)
    tail = "utm_source=google&utm_campaign=11"

    pages = list(_google(google_stub).landing_pages(GOOGLE_CLIENT))

    assert pages == [
        _brand("ad", "31", f"https://shop.example/boots?c=winter&{tail}"),
        _brand("ad_mobile", "31", f"https://m.shop.example/boots?{tail}"),
        _brand("ad", "32", "https://shop.example/sale?ref=ad32#top", paused=True),
        _brand("ad", "34", f"https://shop.example/resting?{tail}", ("22", "Resting"), True),
        LandingPage("https://shop.example/sale-campaign?src=account", "ad", "35", "12", "Sale",
                    "23", "Sale group", paused=True),
        _brand("keyword", "41", f"https://shop.example/kw?q=winter%20boots&{tail}"),
        _brand("keyword", "45", f"https://shop.example/kw-resting?{tail}", ("22", "Resting"),
               True),
        LandingPage("https://shop.example/contact?src=account", "sitelink", "51"),
        _brand("sitelink", "52", f"https://shop.example/delivery?{tail}", (None, None)),
        _brand("sitelink", "55", f"https://shop.example/returns?{tail}", paused=True),
    ]
    streams = [r for r in google_stub.requests if r.path.endswith("searchStream")]
    assert len(streams) == 5  # ads, keywords and the sitelinks of three levels
    assert {r.header("login-customer-id") for r in streams} == {"1112223333"}


def test_google_reads_only_the_entities_asked_for(google_stub: GoogleStub) -> None:
    _google_world(google_stub)

    pages = list(_google(google_stub).landing_pages(GOOGLE_CLIENT, ("ad_mobile", "sitelink")))

    assert [(p.entity_type, p.entity_id) for p in pages] == [
        ("ad_mobile", "31"), ("sitelink", "51"), ("sitelink", "52"), ("sitelink", "55")]
    queries = [r.json()["query"] for r in google_stub.requests if r.path.endswith("searchStream")]
    assert not any("FROM ad_group_criterion" in q for q in queries)


def test_google_landing_errors_map_like_reports(google_stub: GoogleStub) -> None:
    _google_world(google_stub)
    google_stub.fail_next = [(429, {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"}, "0s"),
                             (500, {"internalError": "TRANSIENT_ERROR"}, None)]
    assert len(list(_google(google_stub).landing_pages(GOOGLE_CLIENT, ("keyword",)))) == 2

    google_stub.fail_next = [(429, {"quotaError": "RESOURCE_EXHAUSTED"}, "30s")]
    with pytest.raises(RateLimitedError) as caught:
        list(_google(google_stub).landing_pages(GOOGLE_CLIENT))
    assert caught.value.retry_after == 30

    google_stub.fail_next = ["garbage"]
    with pytest.raises(TemporaryError):
        list(_google(google_stub, retry_attempts=1).landing_pages(GOOGLE_CLIENT))

    google_stub.fail_next = [(401, {"authenticationError": "OAUTH_TOKEN_INVALID"}, None)] * 2
    with pytest.raises(InvalidCredentialsError):
        list(_google(google_stub).landing_pages(GOOGLE_CLIENT))

    google_stub.fail_next = [(401, {"authenticationError": "DEVELOPER_TOKEN_INVALID"}, None)]
    with pytest.raises(PlatformSettingsError, match="developer token"):
        list(_google(google_stub).landing_pages(GOOGLE_CLIENT))


def test_google_each_landing_query_passes_the_quota_limiter(google_stub: GoogleStub) -> None:
    _google_world(google_stub)
    calls: list[int] = []
    client = make_client(Platform.GOOGLE_ADS,
                         {"refresh_token": google_stub.issue_refresh_token()},
                         google_settings(google_stub), before_call=lambda: calls.append(1))

    list(client.landing_pages(GOOGLE_CLIENT))

    assert len(calls) == len([r for r in google_stub.requests if r.path.startswith("/v")]) == 5
    assert planned_calls(Platform.GOOGLE_ADS, ("ad", "ad_mobile", "keyword", "sitelink"), 1) == 5


# --- Sklik -----------------------------------------------------------------------------------

SKLIK_ESHOP = RemoteAccount("132256", "eshop@example.cz", "CZK", "Europe/Prague")


def _sklik_world(stub: SklikStub) -> None:
    stub.list_limit = 2  # every list is read in several pages
    shop = stub.accounts[132256]
    shop.entity_campaigns = {1: {"name": "Brand"}, 2: {"name": "Sale", "status": "suspend"},
                             3: {"name": "Old", "deleted": True}}
    shop.entity_groups = {10: {"campaign": 1, "name": "Core"},
                          11: {"campaign": 1, "name": "Resting", "status": "suspend"},
                          12: {"campaign": 3, "name": "Old group"},
                          13: {"campaign": 1, "name": "Gone", "deleted": True},
                          14: {"campaign": 2, "name": "Sale group"}}
    shop.ads = [
        {"id": 100, "group": 10, "finalUrl": "https://zahrada.example/sekacky?kw={keyword}&a=1",
         "mobileFinalUrl": "https://m.zahrada.example/sekacky"},
        {"id": 101, "group": 10, "finalUrl": "https://zahrada.example/akce", "status": "suspend"},
        {"id": 102, "group": 10, "finalUrl": "https://zahrada.example/smazano", "deleted": True},
        {"id": 103, "group": 11, "finalUrl": "https://zahrada.example/odpocinek"},
        {"id": 104, "group": 12, "finalUrl": "https://zahrada.example/stara-kampan"},
        {"id": 105, "group": 13, "finalUrl": "https://zahrada.example/smazana-sestava"},
        {"id": 106, "group": 14, "finalUrl": "https://zahrada.example/vyprodej"},
    ]
    shop.keywords = [
        {"id": 200, "group": 10, "name": "sekačky", "finalUrl": "https://zahrada.example/kw"},
        {"id": 201, "group": 10, "name": "zahrada"},
        {"id": 202, "group": 10, "name": "staré", "finalUrl": "https://zahrada.example/x",
         "deleted": True},
    ]
    shop.sitelinks = [
        {"id": 300, "name": "Kontakt", "url": "https://zahrada.example/kontakt"},
        {"id": 301, "name": "Doprava", "url": "https://zahrada.example/doprava",
         "status": "suspend"},
        {"id": 302, "name": "Staré", "url": "https://zahrada.example/stare", "deleted": True},
    ]


def _sklik(stub: SklikStub, **settings: object):
    return make_client(Platform.SKLIK, {"token": SKLIK_TOKEN}, stub_settings(
        sklik_url=stub.base_url, **settings))


def _core(entity_type: str, entity_id: str, url: str, paused: bool = False,
          group: tuple[str, str] = ("10", "Core")) -> LandingPage:
    return LandingPage(url, entity_type, entity_id, "1", "Brand", *group, paused=paused)


def test_sklik_lists_every_landing_page_page_by_page(sklik_stub: SklikStub) -> None:
    _sklik_world(sklik_stub)

    pages = list(_sklik(sklik_stub).landing_pages(SKLIK_ESHOP))

    assert pages == [
        _core("ad", "100", "https://zahrada.example/sekacky?a=1"),
        _core("ad_mobile", "100", "https://m.zahrada.example/sekacky"),
        _core("ad", "101", "https://zahrada.example/akce", paused=True),
        _core("ad", "103", "https://zahrada.example/odpocinek", True, ("11", "Resting")),
        LandingPage("https://zahrada.example/vyprodej", "ad", "106", "2", "Sale", "14",
                    "Sale group", paused=True),
        _core("keyword", "200", "https://zahrada.example/kw"),
        LandingPage("https://zahrada.example/kontakt", "sitelink", "300"),
        LandingPage("https://zahrada.example/doprava", "sitelink", "301", paused=True),
    ]
    lists = [(r.path.rsplit("/", 1)[-1], r.json()[2]["offset"], r.json()[0]["userId"])
             for r in sklik_stub.requests if r.path.endswith(".list")]
    assert lists == [("ads.list", 0, 132256), ("ads.list", 2, 132256), ("ads.list", 4, 132256),
                     ("ads.list", 6, 132256), ("keywords.list", 0, 132256),
                     ("keywords.list", 2, 132256), ("sitelinks.list", 0, 132256),
                     ("sitelinks.list", 2, 132256)]


def test_sklik_reads_only_the_lists_asked_for(sklik_stub: SklikStub) -> None:
    _sklik_world(sklik_stub)

    pages = list(_sklik(sklik_stub).landing_pages(SKLIK_ESHOP, ("keyword",)))

    assert pages == [_core("keyword", "200", "https://zahrada.example/kw")]
    assert not [r for r in sklik_stub.requests if r.path.endswith(("ads.list", "sitelinks.list"))]


def test_sklik_landing_errors_map_like_reports(sklik_stub: SklikStub) -> None:
    _sklik_world(sklik_stub)
    sklik_stub.fail_calls = {"keywords.list": [("http", 429)]}
    assert len(list(_sklik(sklik_stub).landing_pages(SKLIK_ESHOP, ("keyword",)))) == 1

    sklik_stub.fail_calls = {"ads.list": [("http", 429)] * 3}
    with pytest.raises(RateLimitedError):
        list(_sklik(sklik_stub).landing_pages(SKLIK_ESHOP))

    sklik_stub.fail_calls = {"ads.list": [("http", 503)] * 3}
    with pytest.raises(TemporaryError):
        list(_sklik(sklik_stub).landing_pages(SKLIK_ESHOP))

    with pytest.raises(InvalidCredentialsError):
        list(make_client(Platform.SKLIK, {"token": "wrong"}, stub_settings(
            sklik_url=sklik_stub.base_url)).landing_pages(SKLIK_ESHOP))

    stranger = RemoteAccount("999", "not managed", "CZK", "Europe/Prague")
    with pytest.raises(AccessDeniedError):
        list(_sklik(sklik_stub).landing_pages(stranger))


def test_sklik_each_list_call_passes_the_quota_limiter(sklik_stub: SklikStub) -> None:
    _sklik_world(sklik_stub)
    calls: list[int] = []
    client = make_client(Platform.SKLIK, {"token": SKLIK_TOKEN},
                         stub_settings(sklik_url=sklik_stub.base_url),
                         before_call=lambda: calls.append(1))

    list(client.landing_pages(SKLIK_ESHOP))
    garden = RemoteAccount("132257", "garden@example.cz", "CZK", "Europe/Prague")
    assert list(client.landing_pages(garden)) == []

    assert len(calls) == len(sklik_stub.requests) == 13  # login, api.limits once, 8 + 3 pages
    assert len([r for r in sklik_stub.requests if r.path.endswith("api.limits")]) == 1
    # planned: api.limits and one page a list of each account; the login and the 5 further
    # pages were counted as they happened
    assert planned_calls(Platform.SKLIK, ("ad", "keyword", "sitelink"), 2) == 1 + 2 * 3


@pytest.mark.parametrize(("platform", "entities", "accounts", "calls"), [
    (Platform.GOOGLE_ADS, ("ad_mobile",), 3, 3),
    (Platform.GOOGLE_ADS, ("keyword", "sitelink"), 2, 8),
    (Platform.SKLIK, ("ad", "ad_mobile"), 4, 5),
    (Platform.MICROSOFT, ("ad", "sitelink"), 2, 4),
    (Platform.MICROSOFT, ("keyword",), 0, 0),
    (Platform.SANDBOX, ("ad",), 5, 0),
    (Platform.GOOGLE_ADS, (), 5, 0),
])
def test_planned_calls_are_the_fewest_a_listing_makes(platform, entities, accounts, calls) -> None:
    assert planned_calls(platform, entities, accounts) == calls


# --- every adapter -----------------------------------------------------------------------------

@pytest.mark.parametrize("platform", [Platform.GOOGLE_ADS, Platform.SKLIK, Platform.MICROSOFT])
def test_every_platform_client_lists_landing_pages(platform: Platform) -> None:
    client = make_client(platform, {"refresh_token": "r", "token": "t"}, stub_settings())

    assert callable(getattr(client, "landing_pages", None))


def test_google_asks_the_hierarchy_again_when_the_stored_manager_lost_the_account(
        google_stub: GoogleStub) -> None:
    _google_world(google_stub)
    moved = RemoteAccount("1234567890", "Client s.r.o.", "CZK", "Europe/Prague",
                          extra={"login_customer_id": "9990001111"})

    pages = list(_google(google_stub).landing_pages(moved, ("keyword",)))

    assert [p.entity_id for p in pages] == ["41", "45"]
    keyword_queries = [r.header("login-customer-id") for r in google_stub.requests
                       if r.path.endswith("searchStream") and "ad_group_criterion" in r.body.decode()]
    assert keyword_queries == ["9990001111", "1112223333"]
