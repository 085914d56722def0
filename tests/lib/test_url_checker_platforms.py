"""The URL checker through the runner over accounts on the Google Ads, Sklik and Microsoft
Advertising stand-ins, each speaking its real wire format, their landing pages on a loopback
site: one landing page used by ads, keywords and sitelinks in several accounts on three
platforms is checked once, and its "where used" lists every use."""

from __future__ import annotations

import csv
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import (
    ClientAccount,
    JobRun,
    OutputType,
    Platform,
    PlatformQuota,
    RunStatus,
    UrlCheck,
    utcnow,
)
from ppc_robot.lib.platforms.landing import planned_calls
from ppc_robot.lib.reports.url_checker import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import make_definition, make_job, make_user
from tests.stubs.google import CLIENT_ID, CLIENT_SECRET, DEVELOPER_TOKEN, Entity, GoogleStub
from tests.stubs.microsoft import MicrosoftStub, MsAdGroup, MsCampaign
from tests.stubs.sites import Page, SiteServer
from tests.stubs.sklik import SklikStub
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.platforms import SKLIK_TOKEN, google_settings, microsoft_settings, stub_settings
from tests.support.runs import KEY
from tests.support.xlsx import read_workbook

google_stub = platform_fixtures.google_stub
microsoft_stub = platform_fixtures.microsoft_stub
sklik_stub = platform_fixtures.sklik_stub
factory = run_fixtures.factory
VAULT = Vault([KEY])
SCHEDULED = datetime(2026, 8, 3, 6, 0, tzinfo=UTC)
SHARED = "/shared-landing"


@pytest.fixture
def site():
    server = SiteServer({SHARED: Page(), "/only-google": Page(), "/gone": Page(404),
                         "/paused-only": Page(), "/removed-only": Page()}).start()
    yield server
    server.stop()


# --- each platform's world, in its own wire format ---------------------------------------------

def _google_world(stub: GoogleStub, site: SiteServer) -> None:
    customer = stub.customers["1234567890"]

    def add(resource: str, parent: object, fields: dict[str, object]) -> None:
        customer.entities.append(Entity(resource, fields, None if parent is None else str(parent)))

    add("campaign", None, {"campaign.id": 11, "campaign.name": "Brand CZ",
                           "campaign.status": "ENABLED"})
    add("ad_group", 11, {"ad_group.id": 21, "ad_group.name": "Core", "ad_group.status": "ENABLED"})

    def ad(aid: int, status: str, url: str) -> None:
        add("ad_group_ad", 21, {"ad_group_ad.status": status, "ad_group_ad.ad.id": aid,
                                "ad_group_ad.ad.final_urls": [url],
                                "ad_group_ad.ad.final_mobile_urls": [],
                                "ad_group_ad.ad.final_url_suffix": ""})

    ad(31, "ENABLED", f"{site.url}{SHARED}")
    ad(32, "PAUSED", f"{site.url}{SHARED}#offer")  # the same page once the fragment is dropped
    ad(33, "REMOVED", f"{site.url}{SHARED}")
    ad(34, "ENABLED", f"{site.url}/only-google")
    ad(35, "REMOVED", f"{site.url}/removed-only")
    add("ad_group_criterion", 21, {
        "ad_group_criterion.criterion_id": 41, "ad_group_criterion.status": "ENABLED",
        "ad_group_criterion.type": "KEYWORD", "ad_group_criterion.negative": False,
        "ad_group_criterion.final_urls": [f"{site.url}{SHARED}"],
        "ad_group_criterion.keyword.text": "boots"})
    add("campaign_asset", 11, {"campaign_asset.status": "ENABLED",
                               "campaign_asset.field_type": "SITELINK", "asset.id": 51,
                               "asset.final_urls": [f"{site.url}{SHARED}"],
                               "asset.sitelink_asset.link_text": "Boots"})


def _sklik_world(stub: SklikStub, site: SiteServer) -> None:
    shop, garden = stub.accounts[132256], stub.accounts[132257]
    shop.entity_campaigns = {1: {"name": "Zahrada"}}
    shop.entity_groups = {10: {"campaign": 1, "name": "Sekačky"}}
    shop.ads = [{"id": 100, "group": 10, "finalUrl": f"{site.url}{SHARED}"},
                {"id": 101, "group": 10, "finalUrl": f"{site.url}/gone", "deleted": True}]
    shop.keywords = [{"id": 200, "group": 10, "name": "sekačky", "finalUrl": f"{site.url}{SHARED}"}]
    shop.sitelinks = [{"id": 300, "name": "Kontakt", "url": f"{site.url}{SHARED}"},
                      {"id": 301, "name": "Akce", "url": f"{site.url}/paused-only",
                       "status": "suspend"}]
    garden.entity_campaigns = {5: {"name": "Garden"}}
    garden.entity_groups = {50: {"campaign": 5, "name": "Trees"}}
    garden.ads = [{"id": 500, "group": 50, "finalUrl": f"{site.url}/gone"}]
    garden.keywords = [{"id": 600, "group": 50, "name": "trees", "finalUrl": f"{site.url}{SHARED}"}]


def _microsoft_world(stub: MicrosoftStub, site: SiteServer) -> None:
    bikes = stub.accounts[0]
    bikes.entity_campaigns = [MsCampaign("701", "Bikes", ad_groups=[MsAdGroup("801", "Rent", ads=[
        {"Id": "901", "Type": "ResponsiveSearch", "Status": "Active",
         "FinalUrls": [f"{site.url}{SHARED}"], "EditorialStatus": "Active"},
        {"Id": "902", "Type": "ResponsiveSearch", "Status": "Deleted",
         "FinalUrls": [f"{site.url}/removed-only"], "EditorialStatus": "Active"},
    ], keywords=[{"Id": "1001", "Text": "bikes", "Status": "Paused",
                  "FinalUrls": [f"{site.url}{SHARED}"]}])])]
    bikes.extensions = [({"Id": "1101", "Type": "SitelinkAdExtension", "Status": "Active",
                          "DisplayText": "Bikes", "FinalUrls": [f"{site.url}{SHARED}"],
                          "Version": 1}, [("Campaign", "701")])]


# --- the run -----------------------------------------------------------------------------------

def _link(session, user, platform, credentials, settings) -> list[ClientAccount]:
    login, _ = link_service_account(session, user, platform, credentials, vault=VAULT,
                                    settings=settings)
    session.commit()
    return list(session.scalars(select(ClientAccount).where(
        ClientAccount.service_account_id == login.id).order_by(ClientAccount.external_id)))


@pytest.fixture
def accounts(session, google_stub, sklik_stub, microsoft_stub, site):
    """The user's accounts on the three stand-ins, by platform: Google's client, Sklik's shop
    and garden, Microsoft's bike rental."""
    _google_world(google_stub, site)
    _sklik_world(sklik_stub, site)
    _microsoft_world(microsoft_stub, site)
    user = make_user(session)
    google = _link(session, user, Platform.GOOGLE_ADS,
                   {"refresh_token": google_stub.issue_refresh_token()},
                   google_settings(google_stub))
    sklik = _link(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                  stub_settings(sklik_url=sklik_stub.base_url))
    microsoft = _link(session, user, Platform.MICROSOFT,
                      {"refresh_token": microsoft_stub.issue_refresh_token()},
                      microsoft_settings(microsoft_stub))
    return user, {
        "google": next(a for a in google if a.external_id == "1234567890"),
        "shop": next(a for a in sklik if a.external_id == "132256"),
        "garden": next(a for a in sklik if a.external_id == "132257"),
        "bikes": next(a for a in microsoft if a.external_id == "149006123"),
    }


@pytest.fixture
def settings(tmp_path, google_stub, sklik_stub, microsoft_stub, site) -> RunnerSettings:
    ms = microsoft_settings(microsoft_stub)
    config = {"PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_RETRY_MAX_WAIT_SECONDS": "0",
              "PPC_ROBOT_URLCHECK_MIN_INTERVAL": "0",
              # the loopback site stands for the public web here; nothing else is allowed
              "PPC_ROBOT_URLCHECK_ALLOWED_HOSTS": f"127.0.0.1:{site.port}",
              "PPC_ROBOT_GOOGLE_ADS_URL": google_stub.url,
              "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN": DEVELOPER_TOKEN,
              "PPC_ROBOT_GOOGLE_OAUTH_TOKEN_URL": google_stub.url + "/token",
              "PPC_ROBOT_GOOGLE_CLIENT_ID": CLIENT_ID, "PPC_ROBOT_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
              "PPC_ROBOT_SKLIK_URL": sklik_stub.base_url}
    config |= {f"PPC_ROBOT_{name.upper()}": getattr(ms, name) for name in (
        "microsoft_customer_url", "microsoft_reporting_url", "microsoft_campaign_url",
        "microsoft_developer_token", "microsoft_oauth_token_url", "microsoft_client_id",
        "microsoft_client_secret")}
    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config=config)


def _run(session, factory, settings, user, accounts, output=OutputType.CSV, **parameters) -> JobRun:
    definition = make_definition(session, user, task_type="url_checker", output_type=output,
                                 parameters=default_parameters() | parameters)
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    job.client_accounts = list(accounts)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()
    execute_run(factory, run.id, settings)
    session.expire_all()
    run = session.get_one(JobRun, run.id)
    assert run.status is RunStatus.SUCCEEDED, run.error_message
    return run


def _uses(session, run) -> dict[str, set[tuple]]:
    """Each checked URL's uses as (account, campaign, ad group, entity type, entity id, paused)."""
    return {check.url: {(u["account"], u["campaign"], u["ad_group"], u["entity_type"],
                         u["entity_id"], u["paused"]) for u in check.uses}
            for check in session.scalars(select(UrlCheck).where(UrlCheck.run_id == run.id))}


def _expected_shared(acc, *, paused: bool) -> set[tuple]:
    google, shop, garden, bikes = (acc[k].name for k in ("google", "shop", "garden", "bikes"))
    uses = {
        (google, "Brand CZ", "Core", "ad", "31", False),
        (google, "Brand CZ", "Core", "keyword", "41", False),
        (google, "Brand CZ", None, "sitelink", "51", False),
        (shop, "Zahrada", "Sekačky", "ad", "100", False),
        (shop, "Zahrada", "Sekačky", "keyword", "200", False),
        (shop, None, None, "sitelink", "300", False),
        (garden, "Garden", "Trees", "keyword", "600", False),
        (bikes, "Bikes", "Rent", "ad", "901", False),
        (bikes, "Bikes", None, "sitelink", "1101", False),
    }
    if paused:
        uses |= {(google, "Brand CZ", "Core", "ad", "32", True),
                 (bikes, "Bikes", "Rent", "keyword", "1001", True)}
    return uses


def test_one_landing_page_on_three_platforms_is_checked_once_with_every_use(
        session, factory, settings, accounts, site):
    user, acc = accounts

    run = _run(session, factory, settings, user, acc.values())

    uses = _uses(session, run)
    shared = f"{site.url}{SHARED}"
    assert set(uses) == {shared, f"{site.url}/only-google", f"{site.url}/gone"}
    assert uses[shared] == _expected_shared(acc, paused=False)
    assert uses[f"{site.url}/gone"] == {(acc["garden"].name, "Garden", "Trees", "ad", "500", False)}
    assert site.hits(SHARED) == 1 and site.hits("/gone") >= 1  # checked once, for every use
    assert site.hits("/removed-only") == site.hits("/paused-only") == 0
    with open(run.output_file, encoding="utf-8-sig", newline="") as handle:
        rows = {row["URL"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(uses)
    row = rows[shared]
    assert (row["Status"], row["HTTP status"], row["Used"]) == ("OK", "200", "9")
    where = row["Where used"].split("; ")
    assert len(where) == 9
    assert f"{acc['google'].name} › Brand CZ › Core — keyword 41" in where
    assert f"{acc['shop'].name} — sitelink 300" in where
    assert f"{acc['bikes'].name} › Bikes — sitelink 1101" in where
    assert f"{acc['garden'].name} › Garden › Trees — keyword 600" in where
    assert "(paused)" not in row["Where used"]
    assert rows[f"{site.url}/gone"]["Status"] == "Broken"


def test_paused_uses_join_only_with_the_parameter_and_the_xlsx_lists_them(
        session, factory, settings, accounts, site):
    user, acc = accounts

    run = _run(session, factory, settings, user, acc.values(), output=OutputType.XLSX,
               include_paused=True)

    uses = _uses(session, run)
    shared = f"{site.url}{SHARED}"
    assert set(uses) == {shared, f"{site.url}/only-google", f"{site.url}/gone",
                         f"{site.url}/paused-only"}
    assert uses[shared] == _expected_shared(acc, paused=True)
    assert uses[f"{site.url}/paused-only"] == {(acc["shop"].name, None, None, "sitelink", "301",
                                                 True)}
    assert site.hits("/removed-only") == 0  # removed entities never, paused or not
    sheet = read_workbook(run.output_file)["All URLs"]
    header = sheet[0]
    rows = {r[header.index("URL")]: r for r in sheet[1:] if r and r[0] in ("OK", "Broken")}
    assert set(rows) == set(uses)
    shared_row = rows[shared]
    assert shared_row[header.index("Used")] == "11"
    where = shared_row[header.index("Where used")].split("; ")
    assert f"{acc['google'].name} › Brand CZ › Core — ad 32 (paused)" in where
    assert f"{acc['bikes'].name} › Bikes › Rent — keyword 1001 (paused)" in where
    assert f"{acc['shop'].name} › Zahrada › Sekačky — ad 100" in where
    assert len(where) == 11
    notes = [r[0] for r in sheet[1:] if r and r[0] not in ("OK", "Broken") and r[0]]
    assert notes == ["4 distinct URLs: 1 broken, 3 ok."]  # the counts per result, no totals row
    broken = read_workbook(run.output_file)["Broken"]
    assert [r[header.index("URL")] for r in broken[1:] if r and r[0] == "Broken"] == [
        f"{site.url}/gone"]


# --- the login's quota -------------------------------------------------------------------------

DAILY_CALLS = 10


def _use_quota(session, login_id: int, used: int, day: datetime) -> None:
    """The login's calls counted on `day` so far."""
    row = session.scalar(select(PlatformQuota).where(PlatformQuota.service_account_id == login_id,
                                                     PlatformQuota.period == "day"))
    if row is None:
        session.add(PlatformQuota(service_account_id=login_id, period="day", period_start=day,
                                  used=used))
    else:
        row.period_start, row.used = day, used
    session.commit()


def test_a_login_without_quota_for_its_whole_listing_waits_instead_of_listing_half(
        session, factory, settings, accounts, sklik_stub, site):
    user, acc = accounts
    tight = dataclasses.replace(settings, app_config={
        **settings.app_config, "PPC_ROBOT_QUOTA_SKLIK_DAY": str(DAILY_CALLS)})
    login_id = acc["shop"].service_account_id
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    planned = planned_calls(Platform.SKLIK, default_parameters()["entities"], 2)
    # Fewer calls left today than the listing of both Sklik accounts needs (enough for some).
    _use_quota(session, login_id, DAILY_CALLS - planned + 2, today)
    definition = make_definition(session, user, task_type="url_checker", output_type=OutputType.CSV,
                                 parameters=default_parameters())
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    job.client_accounts = [acc["shop"], acc["garden"]]
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()
    sent_before = len(sklik_stub.requests)

    outcome = execute_run(factory, run.id, tight)

    session.expire_all()
    waiting = session.get_one(JobRun, run.id)
    tomorrow = today + timedelta(days=1)
    assert outcome == "rescheduled"
    assert (waiting.status, waiting.next_attempt_at) == (RunStatus.QUEUED, tomorrow)
    assert f"quota exhausted, next attempt at {tomorrow:%Y-%m-%d %H:%M} UTC" in waiting.error_message
    assert len(sklik_stub.requests) == sent_before  # not one call of a half listing
    assert session.scalar(select(PlatformQuota.used).where(
        PlatformQuota.service_account_id == login_id, PlatformQuota.period == "day")) == (
        DAILY_CALLS - planned + 2)
    assert session.scalar(select(UrlCheck.id).where(UrlCheck.run_id == run.id)) is None

    # The next day the quota starts over, and the run lists and checks everything.
    _use_quota(session, login_id, 0, today - timedelta(days=1))
    session.execute(update(JobRun).where(JobRun.id == run.id).values(
        next_attempt_at=utcnow() - timedelta(seconds=1)))
    session.commit()

    assert execute_run(factory, run.id, tight) == "succeeded"
    session.expire_all()
    assert set(_uses(session, session.get_one(JobRun, run.id))) == {
        f"{site.url}{SHARED}", f"{site.url}/gone"}
    used = session.scalar(select(PlatformQuota.used).where(
        PlatformQuota.service_account_id == login_id, PlatformQuota.period == "day"))
    assert planned <= used <= DAILY_CALLS
