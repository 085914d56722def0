"""A client's statistics in detail: per currency, 90 days, accounts and top campaigns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from ppc_robot.lib.client_accounts import ClientAccountFilter, client_accounts_of
from ppc_robot.lib.client_performance import client_performance
from ppc_robot.lib.pacing import PacingStatus
from tests.factories import make_client_account, make_workspace
from tests.support.stats import make_account_day, make_campaign_day

D = Decimal
TODAY = date(2026, 3, 3)  # through 2 March: 2 of 31 days; the 90 days start on 3 December
NOW = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)


def _client(session, workspace):
    client = workspace.client
    client.currency, client.monthly_budget, client.target_cpa = "CZK", D(3100), D(50)
    account = workspace.client_account
    account.currency = "CZK"
    eur = make_client_account(session, workspace.service_account, currency="EUR",
                              client_id=client.id, name="Acme DE")
    for day in (date(2026, 2, 27), date(2026, 3, 1), date(2026, 3, 2)):
        make_account_day(session, account, day, cost=100, conversions=2, value=500)
    make_account_day(session, account, date(2025, 12, 3), cost=40)  # the first chart day
    make_account_day(session, account, date(2025, 12, 2), cost=999)  # before it
    make_account_day(session, eur, date(2026, 3, 2), cost=7, conversions=0, value=0)
    for n in range(30):
        make_campaign_day(session, account, f"c{n:02}", date(2026, 3, 2), cost=n + 1)
    make_campaign_day(session, account, "old", date(2026, 1, 31), cost=5000)  # outside 30 days
    session.commit()
    accounts = client_accounts_of(session, workspace.user, ClientAccountFilter(client_id=client.id))
    return client, accounts, account, eur


def test_each_currency_has_its_month_and_90_days(session, workspace):
    client, accounts, _, _ = _client(session, workspace)

    perf = client_performance(session, client, accounts, TODAY, NOW)

    czk, eur = perf.currencies
    assert (czk.currency, eur.currency) == ("CZK", "EUR")
    assert czk.line.pacing.spend == D(200) and czk.line.pacing.expected == D(200)
    assert czk.line.pacing.status == PacingStatus.ON_TRACK
    assert czk.line.last_7_days.cost == D(300)  # 24 Feb – 2 Mar
    assert eur.line.pacing.status == PacingStatus.NO_BUDGET and eur.line.budget_elsewhere
    assert len(czk.daily.days) == 90 and czk.daily.days[0] == date(2025, 12, 3)
    assert czk.daily.cost[0] == D(40) and sum(czk.daily.cost) == D(340)
    assert czk.daily.cpa[-1] == D(50) and czk.daily.cpa[0] is None
    # The daily budget follows each day's month: 3,100 over 31 days, then over 28 in February.
    assert czk.daily.daily_budget[0] == D(100)
    assert czk.daily.daily_budget[czk.daily.days.index(date(2026, 2, 1))] == D(3100) / 28
    assert eur.daily.daily_budget == [None] * 90


def test_the_month_series_runs_to_yesterday_against_the_pro_rated_budget(session, workspace):
    client, accounts, _, _ = _client(session, workspace)

    month = client_performance(session, client, accounts, TODAY, NOW).currencies[0].month

    assert len(month.labels) == 31 and month.labels[0] == "2026-03-01"
    assert month.spend_to_date[:3] == [D(100), D(200), None]
    assert month.pro_rated_budget[0] == D(100) and month.pro_rated_budget[-1] == D(3100)


def test_accounts_and_top_campaigns(session, workspace):
    client, accounts, account, eur = _client(session, workspace)

    perf = client_performance(session, client, accounts, TODAY, NOW, campaigns_shown=5)

    figures = {a.client_account.id: a for a in perf.accounts}
    assert figures[account.id].month_spend == D(200)
    assert figures[eur.id].yesterday.cost == D(7)
    assert [c.campaign_id for c in perf.campaigns] == ["c29", "c28", "c27", "c26", "c25"]
    assert perf.campaigns[0].figures.cost == D(30)
    assert perf.campaign_count == 30
    assert perf.campaign_days == (date(2026, 2, 1), date(2026, 3, 2))


def test_another_users_rows_stay_out(session, workspace):
    client, accounts, _, _ = _client(session, workspace)
    other = make_workspace(session)
    make_account_day(session, other.client_account, date(2026, 3, 2), cost=5000)
    make_campaign_day(session, other.client_account, "x", date(2026, 3, 2), cost=5000)
    session.commit()

    perf = client_performance(session, client, accounts, TODAY, NOW)

    assert perf.currencies[0].line.pacing.spend == D(200)
    assert perf.campaign_count == 30


def test_statements_do_not_grow_with_accounts(session, workspace, count_queries):
    client, accounts, _, _ = _client(session, workspace)
    with count_queries() as small:
        client_performance(session, client, accounts, TODAY, NOW)
    for _ in range(6):
        extra = make_client_account(session, workspace.service_account, currency="CZK",
                                    client_id=client.id)
        make_account_day(session, extra, date(2026, 3, 1), cost=1)
        make_campaign_day(session, extra, "c", date(2026, 3, 1), cost=1)
    session.commit()
    accounts = client_accounts_of(session, workspace.user, ClientAccountFilter(client_id=client.id))
    session.refresh(client)

    with count_queries() as big:
        perf = client_performance(session, client, accounts, TODAY, NOW)

    assert len(perf.accounts) == 8
    assert big.count == small.count == 5


def test_without_statistics(session, workspace):
    perf = client_performance(session, workspace.client, [workspace.client_account], TODAY, NOW)

    assert not perf.has_data and perf.campaigns == [] and perf.campaign_count == 0
    assert [c.currency for c in perf.currencies] == [workspace.client.currency]
    assert all(v == 0 for v in perf.currencies[0].daily.cost)
