"""The dashboard's performance table: per client and currency, from the statistics store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert

from ppc_robot.lib.dashboard import TableCache, performance_table, sort_key
from ppc_robot.lib.models import AccountDay, Client, ClientAccountTag, client_accounts_tags
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


# The cache of computed tables: reused while its inputs stand still, never stale.

def _cached(session, agency, cache, *, now=NOW, today=TODAY, **options):
    return performance_table(session, agency["user"], today, now, cache=cache, **options)


def _states(session, agency, refreshed_at=NOW - timedelta(hours=1)):
    states = {name: make_stats_state(session, agency[name], refreshed_at=refreshed_at)
              for name in ("acme_account", "beta_eur", "beta_czk", "loose")}
    session.commit()
    return states


def test_a_cached_table_is_reused_and_equals_the_computed_one(session, agency, count_queries):
    _states(session, agency)
    cache = TableCache()
    first = _cached(session, agency, cache)
    with count_queries() as reused:
        again = _cached(session, agency, cache)
    computed = performance_table(session, agency["user"], TODAY, NOW)

    assert again.lines is first.lines and reused.count == 1
    assert [(x.name, x.currency, x.pacing, x.yesterday, x.last_7_days, x.cost_series)
            for x in again.lines] == [
        (x.name, x.currency, x.pacing, x.yesterday, x.last_7_days, x.cost_series)
        for x in computed.lines]
    assert again.totals == computed.totals and again.freshness == computed.freshness


def test_a_refresh_shows_at_once(session, agency):
    states = _states(session, agency)
    cache = TableCache()
    assert _line(_cached(session, agency, cache), "Acme", "CZK").yesterday.cost == D(100)

    day = session.get(AccountDay, (agency["acme_account"].id, date(2026, 3, 10)))
    day.cost_micros = 250_000_000
    states["acme_account"].refreshed_at = NOW  # the refresh's transaction moves both
    session.commit()

    acme = _line(_cached(session, agency, cache), "Acme", "CZK")
    assert acme.yesterday.cost == D(250) and acme.pacing.spend == D(1150)


def test_a_backfilled_chunk_shows_at_once(session, agency):
    states = _states(session, agency)
    cache = TableCache()
    assert _line(_cached(session, agency, cache), "Beta", "EUR").pacing.spend == D(21)

    make_account_day(session, agency["beta_eur"], date(2026, 3, 2), cost=9)
    states["beta_eur"].backfill_done_from = date(2026, 1, 1)
    session.commit()

    assert _line(_cached(session, agency, cache), "Beta", "EUR").pacing.spend == D(30)


def test_a_failed_refresh_shows_at_once(session, agency):
    states = _states(session, agency)
    cache = TableCache()
    assert _cached(session, agency, cache).freshness.stale_count == 0

    states["beta_czk"].last_error, states["beta_czk"].last_error_at = "Sandbox answered 503.", NOW
    session.commit()

    freshness = _cached(session, agency, cache).freshness
    assert freshness.stale_count == 1 and freshness.stale[0].reason == "Sandbox answered 503."


def test_a_client_edit_shows_at_once(session, agency):
    _states(session, agency)
    cache = TableCache()
    assert _line(_cached(session, agency, cache), "Beta", "EUR").pacing.budget == D(1000)

    agency["beta"].monthly_budget = D(2000)
    agency["beta"].target_roas = D(1)
    agency["acme"].name = "Acme Renamed"
    session.delete(agency["gamma"])
    session.commit()

    table = _cached(session, agency, cache)
    beta = _line(table, "Beta", "EUR")
    assert beta.pacing.budget == D(2000) and beta.last_7_days_signals.roas == Signal.GREEN
    assert {x.name for x in table.lines} == {"Acme Renamed", "Beta", "Accounts in no client"}


def test_an_account_moved_to_a_client_shows_at_once(session, agency):
    _states(session, agency)
    cache = TableCache()
    assert _line(_cached(session, agency, cache), "Accounts in no client", "USD")

    agency["loose"].client_id = agency["acme"].id
    session.commit()

    table = _cached(session, agency, cache)
    assert {(x.name, x.currency) for x in table.lines} == {
        ("Acme", "CZK"), ("Acme", "USD"), ("Beta", "EUR"), ("Beta", "CZK"), ("Gamma", "EUR")}


def test_a_tagged_account_shows_at_once_under_its_tag(session, agency):
    _states(session, agency)
    tag = session.query(ClientAccountTag).filter_by(user_id=agency["user"].id).one()
    cache = TableCache()
    assert [x.name for x in _cached(session, agency, cache, tag_id=tag.id).lines] == ["Acme"]

    session.execute(insert(client_accounts_tags).values(
        client_account_id=agency["beta_eur"].id, tag_id=tag.id))
    session.commit()

    table = _cached(session, agency, cache, tag_id=tag.id)
    assert [(x.name, x.currency) for x in table.lines] == [("Acme", "CZK"), ("Beta", "EUR")]


def test_accounts_turn_stale_with_time_in_a_cached_table(session, agency):
    _states(session, agency, refreshed_at=NOW - timedelta(hours=35))
    cache = TableCache()
    assert _cached(session, agency, cache).freshness.stale_count == 0
    assert _cached(session, agency, cache, now=NOW + timedelta(minutes=59)).freshness.stale_count == 0

    later = _cached(session, agency, cache, now=NOW + timedelta(hours=1, seconds=1))

    assert later.freshness.stale_count == 4
    assert later.freshness == performance_table(
        session, agency["user"], TODAY, NOW + timedelta(hours=1, seconds=1)).freshness


def test_the_next_day_sort_and_tag_are_tables_of_their_own(session, agency):
    _states(session, agency)
    cache = TableCache(size=2)
    today = _cached(session, agency, cache)
    tomorrow = _cached(session, agency, cache, today=TODAY + timedelta(days=1))
    by_spend = _cached(session, agency, cache, sort="-spend")

    assert tomorrow.window.through == date(2026, 3, 11) and today.window.through == date(2026, 3, 10)
    assert by_spend.sort == "-spend" and by_spend.lines[0].name == "Acme"
    assert len(cache._entries) == 2  # the oldest was dropped
    assert _cached(session, agency, cache).lines is not today.lines
