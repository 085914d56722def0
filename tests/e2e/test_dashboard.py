"""In the browser: the dashboard with statistics draws its pacing bars and Chart.js charts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import expect

from ppc_robot.lib.models import Client, utcnow
from ppc_robot.lib.pacing import local_today, settled_day
from ppc_robot.lib.times import zone_of
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD, make_client_account
from tests.support.stats import make_account_day, make_campaign_day, make_stats_state


def _seed(session, workspace):
    user = workspace.user
    user.time_zone = "Europe/Prague"
    through = settled_day(local_today(utcnow(), zone_of(user.time_zone)))
    acme = workspace.client
    acme.currency, acme.monthly_budget = "CZK", Decimal(90000)
    acme.target_cpa, acme.target_roas, acme.target_pno = Decimal(250), Decimal(4), Decimal("0.25")
    acme.pacing_tolerance = Decimal(10)
    beta = Client(user_id=user.id, name="Beta Shoes", currency="EUR", monthly_budget=Decimal(300),
                  target_cpa=Decimal(10), target_roas=Decimal(5))
    session.add(beta)
    session.flush()
    workspace.client_account.currency = "CZK"
    beta_account = make_client_account(session, workspace.service_account, currency="EUR",
                                       client_id=beta.id, name="Beta Shoes DE")
    for n in range(90):
        day = through - timedelta(days=n)
        wave = Decimal(n % 7)
        make_account_day(session, workspace.client_account, day, cost=2800 + 100 * wave,
                         conversions=10 + wave, value=12000 + 300 * wave)
        make_account_day(session, beta_account, day, cost=14 + wave, conversions=1, value=60)
        for campaign in range(3):
            make_campaign_day(session, workspace.client_account, f"c{campaign}", day,
                              name=f"Search {campaign}", cost=900 + 50 * campaign,
                              conversions=3, value=4000)
    make_stats_state(session, workspace.client_account, refreshed_at=utcnow() - timedelta(hours=3))
    make_stats_state(session, beta_account, refreshed_at=utcnow() - timedelta(hours=3))
    session.commit()
    return acme


def test_the_dashboard_draws_pacing_bars_and_charts(page, session, workspace):
    acme = _seed(session, workspace)

    browser_login(page, workspace.user.email, PASSWORD)
    page.goto("/")

    expect(page.locator(".performance-line")).to_have_count(2)
    expect(page.locator("svg.pacing-bar")).to_have_count(2)
    expect(page.locator(".freshness")).to_contain_text("Statistics as of")
    canvas = page.locator("canvas[data-chart]").first
    expect(canvas).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')]"
                           ".every((c) => window.Chart && Chart.getChart(c))")
    assert canvas.bounding_box()["height"] > 100
    screenshot(page, "dashboard-with-statistics")

    page.click(f"text={acme.name}")
    expect(page.locator("canvas[data-chart]").first).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')]"
                           ".every((c) => window.Chart && Chart.getChart(c))")
    expect(page.locator(".campaign-table tbody tr")).to_have_count(3)
    screenshot(page, "client-page-with-statistics")
