"""Landing pages of Microsoft Advertising's ads, keywords and sitelinks from the stand-in's
Campaign Management, over real HTTP."""

from __future__ import annotations

import pytest

from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms import (
    AccessDeniedError,
    PlatformSettingsError,
    RateLimitedError,
    RemoteAccount,
    TemporaryError,
    make_client,
)
from ppc_robot.lib.platforms.base import LandingPage
from ppc_robot.lib.platforms.landing import planned_calls
from tests.stubs.microsoft import MicrosoftStub, MsAdGroup, MsCampaign
from tests.support import platforms as platform_fixtures
from tests.support.platforms import microsoft_settings

microsoft_stub = platform_fixtures.microsoft_stub


BIKES = RemoteAccount("149006123", "Bike Rental AT", "EUR", "Europe/Vienna",
                      extra={"parent_customer_id": "5000"})


def _ms_ad(ad_id: str, status: str, urls: list[str], **fields: object) -> dict[str, object]:
    return {"Id": ad_id, "Type": fields.pop("Type", "ResponsiveSearch"), "Status": status,
            "FinalUrls": urls, "EditorialStatus": "Active", **fields}


def _sitelink(extension_id: str, url: str, status: str = "Active") -> dict[str, object]:
    return {"Id": extension_id, "Type": "SitelinkAdExtension", "Status": status,
            "DisplayText": f"Link {extension_id}", "FinalUrls": [url], "Version": 1}


def _microsoft_world(stub: MicrosoftStub) -> None:
    bikes = stub.accounts[0]
    core = MsAdGroup("801", "Core", ads=[
        _ms_ad("901", "Active", ["https://bikes.example/rent?s={_season}"],
               FinalMobileUrls=["https://m.bikes.example/rent"]),
        _ms_ad("902", "Paused", ["https://bikes.example/tours"], Type="ExpandedText",
               FinalUrlSuffix="ad={AdId}&ms={msclkid}"),
        _ms_ad("903", "Deleted", ["https://bikes.example/deleted-ad"]),
        _ms_ad("904", "Active", None, Type="DynamicSearch"),
    ], keywords=[
        {"Id": "1001", "Text": "bike rental", "Status": "Active", "MatchType": "Phrase",
         "FinalUrls": ["https://bikes.example/kw?q={keyword}&s={_season}"],
         "UrlCustomParameters": {"Parameters": [{"Key": "season", "Value": "autumn"}]}},
        {"Id": "1002", "Text": "bikes", "Status": "Active", "FinalUrls": None},
        {"Id": "1003", "Text": "old", "Status": "Deleted",
         "FinalUrls": ["https://bikes.example/deleted-keyword"]},
    ])
    bikes.entity_campaigns = [
        MsCampaign("701", "Brand", fields={
            "FinalUrlSuffix": "utm_source=bing&cid={CampaignId}",
            "UrlCustomParameters": {"Parameters": [{"Key": "season", "Value": "summer"}]}},
            ad_groups=[core,
                       MsAdGroup("802", "Resting", "Paused", ads=[
                           _ms_ad("905", "Active", ["https://bikes.example/resting"])]),
                       MsAdGroup("803", "Gone", "Deleted", ads=[
                           _ms_ad("906", "Active", ["https://bikes.example/gone-group"])])]),
        MsCampaign("702", "Old", "Deleted", ad_groups=[MsAdGroup("804", "Old group", ads=[
            _ms_ad("907", "Active", ["https://bikes.example/deleted-campaign"])])]),
        MsCampaign("703", "Winter", "Paused", ad_groups=[MsAdGroup("805", "Snow", ads=[
            _ms_ad("908", "Active", ["https://bikes.example/winter"])])]),
        MsCampaign("704", "Audience", campaign_type="Audience", ad_groups=[
            MsAdGroup("806", "Feed", ads=[_ms_ad("909", "Active", ["https://bikes.example/a"])])]),
    ]
    bikes.extensions = [
        (_sitelink("1101", "https://bikes.example/contact"), [("Account", "149006123")]),
        (_sitelink("1102", "https://bikes.example/prices"), [("Campaign", "701")]),
        (_sitelink("1103", "https://bikes.example/deleted-link", "Deleted"),
         [("Campaign", "701")]),
        (_sitelink("1104", "https://bikes.example/link-of-deleted"), [("Campaign", "702")]),
        (_sitelink("1105", "https://bikes.example/returns"), [("AdGroup", "802")]),
        ({"Id": "1106", "Type": "CalloutAdExtension", "Status": "Active", "Text": "Free helmet"},
         [("Campaign", "701")]),
    ]


def _microsoft(stub: MicrosoftStub, **settings: object):
    return make_client(Platform.MICROSOFT, {"refresh_token": stub.issue_refresh_token()},
                       microsoft_settings(stub, **settings))


def _ms_brand(entity_type: str, entity_id: str, url: str, paused: bool = False,
              group: tuple[str | None, str | None] = ("801", "Core")) -> LandingPage:
    return LandingPage(url, entity_type, entity_id, "701", "Brand", *group, paused=paused)


def test_microsoft_lists_every_landing_page_with_suffixes_and_parameters(
        microsoft_stub: MicrosoftStub) -> None:
    _microsoft_world(microsoft_stub)
    tail = "utm_source=bing&cid=701"

    pages = list(_microsoft(microsoft_stub).landing_pages(BIKES))

    assert pages == [
        _ms_brand("ad", "901", f"https://bikes.example/rent?s=summer&{tail}"),
        _ms_brand("ad_mobile", "901", f"https://m.bikes.example/rent?{tail}"),
        _ms_brand("ad", "902", "https://bikes.example/tours?ad=902", paused=True),
        _ms_brand("keyword", "1001", f"https://bikes.example/kw?q=bike%20rental&s=autumn&{tail}"),
        _ms_brand("ad", "905", f"https://bikes.example/resting?{tail}", True, ("802", "Resting")),
        LandingPage("https://bikes.example/winter", "ad", "908", "703", "Winter", "805", "Snow",
                    paused=True),
        LandingPage("https://bikes.example/contact", "sitelink", "1101"),
        _ms_brand("sitelink", "1102", f"https://bikes.example/prices?{tail}", group=(None, None)),
        _ms_brand("sitelink", "1105", f"https://bikes.example/returns?{tail}", True,
                  ("802", "Resting")),
    ]
    calls = [r for r in microsoft_stub.requests if r.path.startswith("/CampaignManagement/")]
    assert {(r.header("customerid"), r.header("customeraccountid")) for r in calls} == {
        ("5000", "149006123")}
    associations = [r.json() for r in calls if r.path.endswith("AdExtensionsAssociations/Query")]
    assert [(a["AssociationType"], a["EntityIds"]) for a in associations] == [
        ("Account", ["149006123"]), ("Campaign", ["701", "703"]),
        ("AdGroup", ["801", "802", "805"])]


def test_microsoft_reads_only_the_entities_asked_for(microsoft_stub: MicrosoftStub) -> None:
    _microsoft_world(microsoft_stub)

    pages = list(_microsoft(microsoft_stub).landing_pages(BIKES, ("keyword",)))

    assert [(p.entity_type, p.entity_id) for p in pages] == [("keyword", "1001")]
    paths = {r.path.rsplit("/v13/", 1)[-1] for r in microsoft_stub.requests}
    assert not paths & {"Ads/QueryByAdGroupId", "AdExtensionsAssociations/Query"}


def test_microsoft_asks_for_sitelinks_a_hundred_entities_at_a_time(
        microsoft_stub: MicrosoftStub) -> None:
    bikes = microsoft_stub.accounts[0]
    bikes.entity_campaigns = [MsCampaign(str(5000 + i), f"Campaign {i:03}") for i in range(120)]
    bikes.extensions = [(_sitelink("1200", "https://bikes.example/last"), [("Campaign", "5119")])]

    pages = list(_microsoft(microsoft_stub).landing_pages(BIKES, ("sitelink",)))

    assert pages == [LandingPage("https://bikes.example/last", "sitelink", "1200", "5119",
                                 "Campaign 119")]
    asked = [len(r.json()["EntityIds"]) for r in microsoft_stub.requests
             if r.path.endswith("AdExtensionsAssociations/Query")
             and r.json()["AssociationType"] == "Campaign"]
    assert asked == [100, 20]


def test_microsoft_landing_errors_map_like_reports(microsoft_stub: MicrosoftStub) -> None:
    _microsoft_world(microsoft_stub)
    microsoft_stub.fail_next = [(429, 117)]
    assert len(list(_microsoft(microsoft_stub).landing_pages(BIKES, ("keyword",)))) == 1

    microsoft_stub.fail_next = [(400, 117)] * 3
    with pytest.raises(RateLimitedError) as caught:
        list(_microsoft(microsoft_stub, retry_max_wait_seconds=1).landing_pages(BIKES))
    assert caught.value.retry_after == 60

    microsoft_stub.fail_next = [(500, 0), "garbage", (500, 0)]
    with pytest.raises(TemporaryError):
        list(_microsoft(microsoft_stub).landing_pages(BIKES))

    stranger = RemoteAccount("999", "not mine", "EUR", "UTC", extra={"parent_customer_id": "1"})
    with pytest.raises(AccessDeniedError):
        list(_microsoft(microsoft_stub).landing_pages(stranger))

    microsoft_stub.fail_next = [(401, 105)] * 2  # refused again with a fresh token
    with pytest.raises(PlatformSettingsError, match="PPC_ROBOT_MICROSOFT_CAMPAIGN_URL"):
        list(_microsoft(microsoft_stub).landing_pages(BIKES))


def test_microsoft_each_landing_call_passes_the_quota_limiter(
        microsoft_stub: MicrosoftStub) -> None:
    _microsoft_world(microsoft_stub)
    calls: list[int] = []
    client = make_client(Platform.MICROSOFT,
                         {"refresh_token": microsoft_stub.issue_refresh_token()},
                         microsoft_settings(microsoft_stub), before_call=lambda: calls.append(1))

    list(client.landing_pages(BIKES))

    api = [r for r in microsoft_stub.requests if r.path.startswith("/CampaignManagement/")]
    assert len(calls) == len(api) == 1 + 2 + 2 * 3 + 3  # campaigns, groups, ads+keywords, links
    assert planned_calls(Platform.MICROSOFT, ("ad", "keyword", "sitelink"), 1) == 2 <= len(api)
