"""The dashboard's performance table: per client and currency, from the statistics store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ppc_robot.lib.dashboard import performance_table, sort_key
from ppc_robot.lib.models import Client, ClientAccountTag
from ppc_robot.lib.pacing import PacingStatus, Signal
from tests.factories import make_client_account, make_service_account, make_workspace
from tests.support.stats import make_account_day, make_stats_state

D = Decimal
TODAY = date(2026, 3, 11)  # the figures run through 10 March; the last 7 days are 4–10 March
NOW = datetime(2026, 3, 11, 5, 10, tzinfo=UTC)


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@pytest.fixture
def agency(session, workspace):
    """Acme (CZK, budget 3,100) on one CZK account; Beta (EUR, budget 1,000) on a EUR and a CZK
    account; Gamma without accounts; one USD account in no client."""
    user = workspace.user
    acme = workspace.client
    acme.currency, acme.monthly_budget = "CZK", D(3100)
    acme.target_cpa, acme.target_roas, acme.target_pno = D(100), D(4), D("0.25")
    acme_account = workspace.client_account  # CZK, tagged "e-shop"
    for day in _days(date(2026, 3, 1), date(2026, 3, 10)):
        make_account_day(session, acme_account, day, cost=100, conversions=1, value=400)
    make_account_day(session, acme_account, date(2026, 2, 9), cost=70)  # first sparkline day
    make_account_day(session, acme_account, date(2026, 2, 8), cost=999)  # before every window
    make_account_day(session, acme_account, date(2026, 3, 11), cost=999)  # today: not settled
    login = workspace.service_account
    beta = Client(user_id=user.id, name="Beta", currency="EUR", monthly_budget=D(1000),
                  target_cpa=D(5), target_roas=D(2))
    gamma = Client(user_id=user.id, name="Gamma", currency="EUR")
    session.add_all([beta, gamma])
    session.flush()
    beta_eur = make_client_account(session, login, currency="EUR", client_id=beta.id)
    beta_czk = make_client_account(session, login, currency="CZK", client_id=beta.id)
    make_account_day(session, beta_eur, date(2026, 3, 9), cost="10.50", conversions=2, value=30)
    make_account_day(session, beta_eur, date(2026, 3, 10), cost="10.50", conversions=1, value=12)
    make_account_day(session, beta_czk, date(2026, 3, 10), cost=20, conversions="0.5", value=10)
    loose = make_client_account(session, login, currency="USD")
    make_account_day(session, loose, date(2026, 3, 10), cost=5)
    session.commit()
    return {"user": user, "acme": acme, "beta": beta, "gamma": gamma, "loose": loose,
            "acme_account": acme_account, "beta_eur": beta_eur, "beta_czk": beta_czk}


def _line(table, name, currency):
    [line] = [x for x in table.lines if x.name == name and x.currency == currency]
    return line


def test_a_client_in_its_currency_against_budget_and_targets(session, agency):
    table = performance_table(session, agency["user"], TODAY, NOW)

    acme = _line(table, "Acme", "CZK")
    assert acme.pacing.spend == D(1000)
    assert acme.pacing.expected == D(1000)  # 3,100 × 10 / 31
    assert acme.pacing.status == PacingStatus.ON_TRACK
    assert acme.pacing.forecast == D(1000) + D(100) * 21
    assert (acme.yesterday.cost, acme.yesterday.conversions, acme.yesterday.value) == (
        D(100), D(1), D(400))
    assert (acme.last_7_days.cost, acme.last_7_days.conversions) == (D(700), D(7))
    assert (acme.last_7_days.cpa, acme.last_7_days.roas, acme.last_7_days.pno) == (
        D(100), D(4), D("0.25"))
    assert acme.last_7_days_signals.cpa == Signal.GREEN
    assert acme.last_7_days_signals.roas == Signal.GREEN
    assert acme.last_7_days_signals.pno == Signal.GREEN
    assert len(acme.cost_series) == 30 and table.series_days[0] == date(2026, 2, 9)
    assert acme.cost_series[0] == D(70) and acme.cost_series[-1] == D(100)
    assert sum(acme.cost_series) == D(1070)


def test_a_client_with_two_currencies_gets_a_line_per_currency(session, agency):
    table = performance_table(session, agency["user"], TODAY, NOW)

    eur = _line(table, "Beta", "EUR")
    czk = _line(table, "Beta", "CZK")
    assert eur.pacing.spend == D(21) and eur.pacing.budget == D(1000)
    assert eur.pacing.status == PacingStatus.UNDER and eur.pacing.signal == Signal.RED
    assert eur.last_7_days.cpa == D(7) and eur.last_7_days_signals.cpa == Signal.RED
    assert eur.last_7_days.roas == D(2) and eur.last_7_days_signals.roas == Signal.GREEN
    # The EUR budget and CPA target do not apply to the CZK line; the ROAS target does.
    assert czk.pacing.status == PacingStatus.NO_BUDGET and czk.budget_elsewhere
    assert czk.last_7_days_signals.cpa == Signal.NONE
    assert czk.last_7_days.roas == D("0.5") and czk.last_7_days_signals.roas == Signal.RED


def test_accounts_in_no_client_and_clients_without_data(session, agency):
    table = performance_table(session, agency["user"], TODAY, NOW)

    loose = _line(table, "Accounts in no client", "USD")
    gamma = _line(table, "Gamma", "EUR")
    assert loose.pacing.spend == D(5) and loose.pacing.status == PacingStatus.NO_BUDGET
    assert not gamma.has_data and gamma.pacing.status == PacingStatus.NO_BUDGET
    assert gamma.pacing.percent is None
    assert [x.name for x in table.lines] == [
        "Acme", "Beta", "Beta", "Gamma", "Accounts in no client"]


def test_totals_are_per_currency(session, agency):
    table = performance_table(session, agency["user"], TODAY, NOW)

    totals = {t.currency: t for t in table.totals}
    assert sorted(totals) == ["CZK", "EUR", "USD"]
    assert totals["CZK"].month_spend == D(1020) and totals["CZK"].budget == D(3100)
    assert totals["CZK"].last_7_days.cost == D(720)
    assert totals["CZK"].last_7_days.conversions == D("7.5")
    assert totals["EUR"].month_spend == D(21) and totals["EUR"].budget == D(1000)
    assert totals["EUR"].yesterday.cost == D("10.5")
    assert totals["USD"].month_spend == D(5)


def test_another_users_statistics_are_not_counted(session, agency):
    other = make_workspace(session)
    make_account_day(session, other.client_account, date(2026, 3, 10), cost=5000)
    session.commit()

    table = performance_table(session, agency["user"], TODAY, NOW)

    assert _line(table, "Acme", "CZK").pacing.spend == D(1000)
    assert {t.currency: t.month_spend for t in table.totals}["CZK"] == D(1020)


def test_a_tag_keeps_only_its_accounts(session, agency):
    tag = session.query(ClientAccountTag).filter_by(user_id=agency["user"].id).one()

    table = performance_table(session, agency["user"], TODAY, NOW, tag_id=tag.id)

    assert [(x.name, x.currency) for x in table.lines] == [("Acme", "CZK")]


@pytest.mark.parametrize(("sort", "names"), [
    ("spend", ["Gamma", "Accounts in no client", "Beta", "Beta", "Acme"]),
    ("-spend", ["Acme", "Beta", "Beta", "Accounts in no client", "Gamma"]),
    ("-pacing", ["Acme", "Beta", "Beta", "Gamma", "Accounts in no client"]),
    ("cpa_7d", ["Beta", "Beta", "Acme", "Gamma", "Accounts in no client"]),
    ("-name", ["Accounts in no client", "Gamma", "Beta", "Beta", "Acme"]),
])
def test_sorting_puts_missing_figures_last(session, agency, sort, names):
    table = performance_table(session, agency["user"], TODAY, NOW, sort=sort)

    assert [x.name for x in table.lines] == names


@pytest.mark.parametrize("sort", [None, "", "drop table", "-", "cost; --", "__class__"])
def test_unknown_sorts_fall_back_to_the_name(sort):
    assert sort_key(sort) == "name"


def test_freshness_names_stale_accounts_with_why(session, agency):
    make_stats_state(session, agency["acme_account"], refreshed_at=NOW - timedelta(hours=2))
    make_stats_state(session, agency["beta_eur"], refreshed_at=NOW - timedelta(hours=1),
                     last_error="Sandbox answered 503.")
    make_stats_state(session, agency["beta_czk"], refreshed_at=NOW - timedelta(days=3))
    session.commit()

    freshness = performance_table(session, agency["user"], TODAY, NOW).freshness

    assert (freshness.accounts, freshness.refreshed, freshness.stale_count) == (4, 3, 3)
    assert freshness.as_of == NOW - timedelta(days=3)
    reasons = {s.client_account_id: s.reason for s in freshness.stale}
    assert reasons == {agency["beta_eur"].id: "Sandbox answered 503.",
                       agency["beta_czk"].id: "not refreshed for more than a day",
                       agency["loose"].id: "statistics are being collected"}


def test_the_number_of_statements_does_not_grow_with_clients(session, count_queries, workspace):
    user = workspace.user
    make_account_day(session, workspace.client_account, date(2026, 3, 10), cost=1)
    session.commit()
    with count_queries() as small:
        performance_table(session, user, TODAY, NOW)
    login = make_service_account(session, user)
    for n in range(8):
        client = Client(user_id=user.id, name=f"Client {n}", currency="CZK", monthly_budget=D(10))
        session.add(client)
        session.flush()
        for currency in ("CZK", "EUR"):
            account = make_client_account(session, login, currency=currency, client_id=client.id)
            make_account_day(session, account, date(2026, 3, 10), cost=3)
            make_stats_state(session, account, refreshed_at=NOW)
    session.commit()
    session.refresh(user)  # loaded again after the commit, outside the count

    with count_queries() as big:
        table = performance_table(session, user, TODAY, NOW)

    assert len(table.lines) == 17
    assert big.count == small.count == 5
