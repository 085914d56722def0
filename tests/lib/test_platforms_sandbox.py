"""The Sandbox platform: deterministic, realistic, with weekly seasonality and zero days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms import PlatformSettings, ReportRequest, make_client
from ppc_robot.lib.platforms.sandbox import SANDBOX_ACCOUNTS

CZ, SK = SANDBOX_ACCOUNTS[0], SANDBOX_ACCOUNTS[1]


def _rows(account, first, last, dimensions=("date",)):
    client = make_client(Platform.SANDBOX, {}, PlatformSettings())
    return list(client.fetch_report(ReportRequest(account, first, last, dimensions)))


def test_accounts_in_two_currencies_without_credentials() -> None:
    client = make_client(Platform.SANDBOX, {}, PlatformSettings())
    assert client.check_credentials().external_id == "sandbox"
    assert {a.currency for a in client.list_accounts()} == {"CZK", "EUR"}
    assert len(client.list_accounts()) >= 4


def test_same_request_same_rows_and_different_accounts_differ() -> None:
    first = _rows(CZ, date(2026, 8, 1), date(2026, 8, 7), ("date", "campaign"))
    assert first == _rows(CZ, date(2026, 8, 1), date(2026, 8, 7), ("date", "campaign"))
    assert first != _rows(SK, date(2026, 8, 1), date(2026, 8, 7), ("date", "campaign"))
    assert 2 <= len({r.campaign for r in first}) <= 4


def test_finer_dimensions_add_up_to_the_daily_total() -> None:
    day = date(2026, 8, 3)
    (total,) = _rows(CZ, day, day)
    keywords = _rows(CZ, day, day, ("date", "campaign", "ad_group", "keyword"))
    assert sum(r.clicks for r in keywords) == total.clicks
    assert sum((r.cost for r in keywords), Decimal(0)) == total.cost
    assert all(isinstance(r.cost, Decimal) and r.cost == r.cost.quantize(Decimal("0.01"))
               for r in keywords)


def test_weekdays_are_busier_than_weekends_and_magnitudes_are_realistic() -> None:
    start = date(2026, 1, 5)  # a Monday
    rows = _rows(CZ, start, start + timedelta(days=7 * 26 - 1))
    weekday = [r.impressions for r in rows if r.date.weekday() < 5]
    weekend = [r.impressions for r in rows if r.date.weekday() >= 5]
    assert sum(weekday) / len(weekday) > 1.2 * sum(weekend) / len(weekend)
    assert all(100 < r.impressions < 100_000 for r in rows)
    assert all(r.clicks <= r.impressions for r in rows)
    eur = _rows(SK, start, start + timedelta(days=27))
    czk_cpc = sum(r.cost for r in rows) / sum(r.clicks for r in rows)
    eur_cpc = sum(r.cost for r in eur) / sum(r.clicks for r in eur)
    assert czk_cpc > 5 * eur_cpc


def test_some_keyword_days_are_zero() -> None:
    rows = _rows(CZ, date(2026, 8, 1), date(2026, 8, 31), ("date", "keyword"))
    assert any(r.impressions == 0 for r in rows)
    assert any(r.impressions > 0 for r in rows)


def test_landing_pages_link_to_the_demo_site_of_the_apps_base_url():
    client = make_client(Platform.SANDBOX, {}, PlatformSettings(base_url="http://shop.test:8080"))
    account = SANDBOX_ACCOUNTS[1]

    pages = list(client.landing_pages(account))
    again = list(client.landing_pages(account))
    keywords = list(client.landing_pages(account, ("keyword",)))

    assert pages == again
    assert all(p.url.startswith("http://shop.test:8080/demo-site/") for p in pages)
    assert {p.entity_type for p in pages} == {"ad", "ad_mobile", "keyword", "sitelink"}
    assert keywords == [p for p in pages if p.entity_type == "keyword"]
    assert any(p.paused for p in pages) and not all(p.paused for p in pages)
    assert all(p.campaign and p.campaign_id for p in pages)
