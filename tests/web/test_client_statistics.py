"""The client page's statistics: charts' data, accounts and campaigns, ownership."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

from ppc_robot.lib.models import utcnow
from ppc_robot.lib.pacing import local_today, settled_day
from ppc_robot.lib.times import zone_of
from tests.support.stats import make_account_day, make_campaign_day


def _through(user):
    return settled_day(local_today(utcnow(), zone_of(user.time_zone)))


def test_the_client_page_shows_charts_accounts_and_campaigns(client, session, login, workspace):
    acme = workspace.client
    acme.currency, acme.monthly_budget, acme.target_cpa = "CZK", Decimal(31000), Decimal(100)
    workspace.client_account.currency = "CZK"
    through = _through(workspace.user)
    for n in range(5):
        make_account_day(session, workspace.client_account, through - timedelta(days=n),
                         cost=1000, conversions=4, value=5000)
    for n in range(30):
        make_campaign_day(session, workspace.client_account, f"c{n}", through, cost=10 + n,
                          name=f"Brand {n}")
    session.commit()
    login(workspace.user)

    page = client.get(f"/clients/{acme.id}").text

    blocks = dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page))
    assert set(blocks) == {"daily-cost-CZK", "month-CZK", "conversions-CZK", "pno-CZK"}
    daily = json.loads(blocks["daily-cost-CZK"])
    assert len(daily["labels"]) == 90 and daily["labels"][-1] == through.isoformat()
    assert daily["unit"] == "CZK" and [s["label"] for s in daily["series"]] == ["Cost", "Daily budget"]
    assert Decimal(daily["series"][0]["values"][-1]) == 1000
    assert 'src="/static/vendor/chart.umd.js"' in page and 'src="/static/js/charts.js"' in page
    assert 'class="pacing-bar"' in page
    assert page.count("<tr><td>Brand") == 25
    assert "The 25 campaigns with the highest cost of 30." in page
    assert "Brand 29" in page and "Brand 0<" not in page


def test_a_client_without_statistics_says_they_are_being_collected(client, login, workspace):
    login(workspace.user)

    page = client.get(f"/clients/{workspace.client.id}").text

    assert "Statistics are being collected" in page and "chart.umd.js" not in page


def test_another_users_client_page_is_not_found(client, login, workspace, other_workspace,
                                                session):
    make_account_day(session, other_workspace.client_account, _through(other_workspace.user),
                     cost=5)
    session.commit()
    login(workspace.user)

    assert client.get(f"/clients/{other_workspace.client.id}").status_code == 404


def test_the_page_sends_the_content_security_policy(client, login, workspace):
    login(workspace.user)

    response = client.get(f"/clients/{workspace.client.id}")

    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'self'
    assert "<script>" not in response.text  # no inline script, only src= and JSON blocks
