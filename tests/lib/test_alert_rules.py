"""Custom alert rules evaluated on a fixed data set written into the statistics store; every
expected hit below is computed by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from ppc_robot.lib.alerts import Condition, Rule, evaluate_rules, read_accounts
from ppc_robot.lib.alerts.rules import INFINITE, hit_text
from ppc_robot.lib.models import Client
from ppc_robot.lib.platforms import ReportRow
from ppc_robot.lib.stats import AccountRef, store_days
from tests.factories import make_client_account, make_service_account

TODAY = date(2026, 11, 25)  # yesterday 24 Nov; the previous day 23 Nov; last year 24 Nov 2025
FETCHED = datetime(2026, 11, 25, 5, tzinfo=UTC)


def row(day, campaign, impressions, clicks, cost, conversions, value):
    return ReportRow(date=day, campaign=campaign, campaign_id=campaign.lower(),
                     impressions=impressions, clicks=clicks, cost=D(cost),
                     conversions=D(conversions), conversion_value=D(value))


@pytest.fixture
def world(session, user):
    """Acme CZ (CZK, client Acme: CPA 300, ROAS 4, PNO 25 %), campaigns Brand and Generic;
    Beta SK (EUR, no client), campaign Search.

    yesterday   Brand  1000 impr, 100 clicks, 1236.00 cost, 3 conv, 4000 value (CPA 412)
                Generic 2000 impr, 50 clicks, 300.00 cost, 1 conv, 1200 value (CPA 300, ROAS 4,
                        PNO 25 %: every target met exactly)
                Search  500 impr, 20 clicks, 100 EUR, nothing converted (CPA ∞, ROAS 0)
    23 Nov      Brand 80 clicks; Generic the same as yesterday; Search 25 clicks
    17 Nov      Brand 5000 cost: the day before the last 7 days (18–24 Nov)
    18 Nov      Brand 500 cost: the first of the last 7 days
    24 Nov 2025 Brand 200 clicks, Generic 40 clicks
    """
    login = make_service_account(session, user)
    acme = Client(user_id=user.id, name="Acme Rules", currency="CZK", target_cpa=D("300"),
                  target_roas=D("4"), target_pno=D("0.25"))
    session.add(acme)
    session.flush()
    acme_cz = make_client_account(session, login, name="Acme CZ", currency="CZK",
                                  client_id=acme.id)
    beta = make_client_account(session, login, name="Beta SK", currency="EUR")
    d = date
    store_days(session, AccountRef(acme_cz.id, user.id, "CZK"), d(2026, 11, 10), d(2026, 11, 24), [
        row(d(2026, 11, 24), "Brand", 1000, 100, "1236.00", "3", "4000"),
        row(d(2026, 11, 24), "Generic", 2000, 50, "300.00", "1", "1200"),
        row(d(2026, 11, 23), "Brand", 800, 80, "1000", "4", "5000"),
        row(d(2026, 11, 23), "Generic", 2000, 50, "300.00", "1", "1200"),
        row(d(2026, 11, 18), "Brand", 100, 10, "500", "0", "0"),
        row(d(2026, 11, 17), "Brand", 100, 10, "5000", "0", "0"),
    ], FETCHED)
    store_days(session, AccountRef(acme_cz.id, user.id, "CZK"), d(2025, 11, 24), d(2025, 11, 24), [
        row(d(2025, 11, 24), "Brand", 2000, 200, "1000", "5", "6000"),
        row(d(2025, 11, 24), "Generic", 400, 40, "200", "1", "800"),
    ], FETCHED)
    store_days(session, AccountRef(beta.id, user.id, "EUR"), d(2026, 11, 10), d(2026, 11, 24), [
        row(d(2026, 11, 24), "Search", 500, 20, "100", "0", "0"),
        row(d(2026, 11, 23), "Search", 500, 25, "100", "1", "300"),
    ], FETCHED)
    session.commit()
    return read_accounts(session, [acme_cz.id, beta.id])


def rule(*conditions, level="campaign", period="yesterday", min_metric=None, min_value=None):
    return Rule("R", level, period, tuple(Condition(m, c, None if v is None else D(v))
                                          for m, c, v in conditions), min_metric,
                None if min_value is None else D(min_value))


def hits(session, world, *rules):
    return [h.entity for h in evaluate_rules(session, rules, world, TODAY)]


@pytest.mark.parametrize(("comparison", "value", "expected"), [
    ("gt", "300", ["Acme CZ / Brand", "Beta SK / Search"]),  # 300 is not > 300; ∞ is
    ("ge", "300", ["Acme CZ / Brand", "Acme CZ / Generic", "Beta SK / Search"]),
    ("gt", "412", ["Beta SK / Search"]),
    ("ge", "412", ["Acme CZ / Brand", "Beta SK / Search"]),
    ("lt", "412", ["Acme CZ / Generic"]),  # an infinite CPA is never below
    ("le", "412", ["Acme CZ / Brand", "Acme CZ / Generic"]),
])
def test_cpa_thresholds_at_and_beside_the_boundary(session, world, comparison, value, expected):
    assert hits(session, world, rule(("cpa", comparison, value))) == expected


@pytest.mark.parametrize(("comparison", "value", "expected"), [
    ("lt", "4", ["Acme CZ / Brand", "Beta SK / Search"]),  # 4000/1236 = 3.24; 0/100 = 0
    ("le", "4", ["Acme CZ / Brand", "Acme CZ / Generic", "Beta SK / Search"]),
    ("gt", "3.2", ["Acme CZ / Brand", "Acme CZ / Generic"]),
])
def test_roas_thresholds(session, world, comparison, value, expected):
    assert hits(session, world, rule(("roas", comparison, value))) == expected


@pytest.mark.parametrize(("metric", "comparison", "value", "expected"), [
    ("ctr", "gt", "4", ["Acme CZ / Brand"]),  # 10 %, 2.5 %, 4 % (not > 4 %)
    ("ctr", "ge", "4", ["Acme CZ / Brand", "Beta SK / Search"]),
    ("pno", "gt", "25", ["Acme CZ / Brand", "Beta SK / Search"]),  # 30.9 %, 25 %, ∞
    ("conversion_rate", "ge", "3", ["Acme CZ / Brand"]),  # 3 %, 2 %, 0 %
    ("cpc", "le", "5", ["Beta SK / Search"]),  # 12.36, 6, 5
    ("cost", "ge", "1236", ["Acme CZ / Brand"]),
    ("clicks", "lt", "50", ["Beta SK / Search"]),
    ("impressions", "gt", "1000", ["Acme CZ / Generic"]),
    ("conversions", "ge", "1", ["Acme CZ / Brand", "Acme CZ / Generic"]),
    ("conversion_value", "gt", "1200", ["Acme CZ / Brand"]),
])
def test_every_metric_with_a_threshold(session, world, metric, comparison, value, expected):
    assert hits(session, world, rule((metric, comparison, value))) == expected


def test_the_account_level_sums_its_campaigns_and_computes_ratios_from_the_sums(session, world):
    # Acme CZ yesterday: 1536 cost / 4 conversions = CPA 384 exactly; Beta SK: ∞.
    assert hits(session, world, rule(("cpa", "gt", "384"), level="account")) == ["Beta SK"]
    [acme, beta] = evaluate_rules(session, [rule(("cpa", "ge", "384"), level="account")],
                                  world, TODAY)
    assert acme.findings[0].value == D(384) and beta.findings[0].value == INFINITE
    assert hit_text(acme) == "CPA CZK\u00a0384.00 yesterday ≥ CZK\u00a0384.00"
    assert hit_text(acme, "cs") == "CPA 384,00\u00a0Kč včera ≥ 384,00\u00a0Kč"


def test_the_minimum_volume_leaves_small_entities_out_and_counts_at_its_boundary(session, world):
    # CPA ≥ 300 matches all three; Search has 20 clicks, Generic exactly 50.
    found = hits(session, world, rule(("cpa", "ge", "300"), min_metric="clicks", min_value="50"))

    assert found == ["Acme CZ / Brand", "Acme CZ / Generic"]


def test_conditions_are_anded(session, world):
    both = rule(("cpa", "gt", "300"), ("clicks", "ge", "100"))
    never = rule(("cpa", "gt", "300"), ("clicks", "gt", "100"))

    assert hits(session, world, both) == ["Acme CZ / Brand"]
    assert hits(session, world, never) == []


@pytest.mark.parametrize(("comparison", "value", "expected"), [
    ("up_vs_previous", "25", []),  # Brand 80 → 100 clicks is +25 %, not more than 25 %
    ("up_vs_previous", "24.9", ["Acme CZ / Brand"]),
    ("down_vs_previous", "20", []),  # Search 25 → 20 is −20 %
    ("down_vs_previous", "19.9", ["Beta SK / Search"]),
    ("down_vs_last_year", "49.9", ["Acme CZ / Brand"]),  # 200 → 100 is −50 %; Search no data
    ("down_vs_last_year", "50", []),
    ("up_vs_last_year", "24.9", ["Acme CZ / Generic"]),  # 40 → 50 is +25 %
])
def test_changes_against_the_previous_period_and_last_year(session, world, comparison, value,
                                                           expected):
    assert hits(session, world, rule(("clicks", comparison, value))) == expected


def test_a_change_names_both_values(session, world):
    [hit] = evaluate_rules(session, [rule(("clicks", "down_vs_last_year", "10"))], world, TODAY)

    assert hit_text(hit) == "Clicks 100 yesterday, -50.0% vs the same period last year (200)"


def test_the_account_level_change_over_the_last_7_days_reads_exactly_its_days(session, world):
    # Acme CZ 18–24 Nov cost: 500 + 1000 + 300 + 1236 + 300 = 3336 (17 Nov's 5000 excluded);
    # the previous 7 days, 11–17 Nov: 5000. Change −33.28 %.
    [hit] = evaluate_rules(session, [rule(("cost", "down_vs_previous", "33"),
                                          level="account", period="last_7_days")], world, TODAY)

    assert hit.entity == "Acme CZ"
    assert hit.findings[0].value == D("3336") and hit.findings[0].compared == D("5000")
    assert hits(session, world, rule(("cost", "down_vs_previous", "33.3"), level="account",
                                     period="last_7_days")) == []


@pytest.mark.parametrize(("metric", "expected"), [
    ("cpa", ["Acme CZ / Brand"]),  # 412 > 300 (higher is worse); Generic's 300 meets it
    ("roas", ["Acme CZ / Brand"]),  # 3.24 < 4 (lower is worse); Generic's 4 meets it
    ("pno", ["Acme CZ / Brand"]),  # 30.9 % > 25 % (higher is worse); Generic's 25 % meets it
])
def test_worse_than_the_clients_target(session, world, metric, expected):
    # Beta SK has no client, so no target: its infinite CPA matches nothing here.
    assert hits(session, world, rule((metric, "worse_than_target", None))) == expected


def test_worse_than_target_at_the_account_level_names_the_target(session, world):
    [hit] = evaluate_rules(session, [rule(("roas", "worse_than_target", None), level="account")],
                           world, TODAY)

    assert hit_text(hit) == "ROAS 3.39 yesterday, worse than the target 4.00"
    assert hit_text(hit, "cs") == "ROAS 3,39 včera, horší než cíl 4,00"


def test_a_cpa_target_in_another_currency_is_not_compared(session, world, user):
    client = session.scalar(select(Client).where(Client.name == "Acme Rules"))
    client.currency = "EUR"
    session.commit()
    accounts = read_accounts(session, [a.client_account_id for a in world])

    assert hits(session, accounts, rule(("cpa", "worse_than_target", None))) == []
    assert hits(session, accounts, rule(("roas", "worse_than_target", None))) == [
        "Acme CZ / Brand"]


def test_month_to_date_and_several_rules_keep_their_order(session, world):
    # Acme CZ month to date: 5000 + 500 + 1300 + 1536 = 8336 cost; Beta SK 200 EUR.
    first = rule(("cost", "gt", "8335.99"), level="account", period="month_to_date")
    second = rule(("cost", "gt", "8336"), level="account", period="month_to_date")
    third = rule(("cost", "le", "200"), level="account", period="month_to_date")

    assert hits(session, world, first, second, third) == ["Acme CZ", "Beta SK"]


def test_the_statements_do_not_grow_with_accounts_or_rules_sharing_periods(
        session, world, user, count_queries):
    rules = [rule(("cpa", "gt", "1")), rule(("clicks", "up_vs_previous", "1")),
             rule(("roas", "worse_than_target", None), level="account")]
    with count_queries() as small:
        evaluate_rules(session, rules, world, TODAY)
    login = make_service_account(session, user)
    more = [make_client_account(session, login) for _ in range(30)]
    session.commit()
    accounts = read_accounts(session, [a.client_account_id for a in world] + [a.id for a in more])
    with count_queries() as big:
        evaluate_rules(session, rules * 10, accounts, TODAY)

    # One statement per level: the campaigns (yesterday and the day before) and the accounts.
    assert small.count == big.count == 2
