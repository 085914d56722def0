"""Custom alert rules: the comparison "up or down by more than X %", campaigns named however
their periods are cut, and the columnar screening agreeing with the exact evaluation."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from ppc_robot.lib.alerts import Condition, Rule, Sums, evaluate_rules, read_accounts
from ppc_robot.lib.alerts.model import CHANGES, METRICS, TARGET_WORSE, THRESHOLDS
from ppc_robot.lib.alerts.rules import _change, check_condition, hit_text, metric_value
from ppc_robot.lib.models import Client
from ppc_robot.lib.platforms import ReportRow
from ppc_robot.lib.stats import AccountRef, store_days
from tests.factories import make_client_account, make_service_account
from tests.lib.test_alert_rules import TODAY, hits, row, rule, world  # noqa: F401  (fixture)

FETCHED = datetime(2026, 11, 25, 5, tzinfo=UTC)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.mark.parametrize(("comparison", "value", "expected"), [
    # Clicks against the day before: Brand 80 → 100 (+25 %), Generic 50 → 50, Search 25 → 20
    # (−20 %); against last year: Brand 200 → 100 (−50 %), Generic 40 → 50 (+25 %).
    ("either_vs_previous", "19.9", ["Acme CZ / Brand", "Beta SK / Search"]),
    ("either_vs_previous", "20", ["Acme CZ / Brand"]),  # −20 % is not more than 20 %
    ("either_vs_previous", "25", []),
    ("either_vs_last_year", "24.9", ["Acme CZ / Brand", "Acme CZ / Generic"]),
    ("either_vs_last_year", "25", ["Acme CZ / Brand"]),
    ("either_vs_last_year", "50", []),
])
def test_a_change_either_way(session, world, comparison, value, expected):  # noqa: F811
    assert hits(session, world, rule(("clicks", comparison, value))) == expected


def test_a_change_either_way_is_described(session, world):  # noqa: F811
    [hit] = evaluate_rules(session, [rule(("clicks", "either_vs_previous", "20"))], world, TODAY)

    assert hit_text(hit) == "Clicks 100 yesterday, +25.0% vs the previous period (80)"
    assert hit_text(hit, "cs") == "Prokliky 100 včera, +25,0\u00a0% oproti předchozímu období (80)"


def test_a_campaign_seen_only_in_the_middle_of_a_period_is_named(session, world, user):  # noqa: F811
    # A campaign with a row on 20 Nov only; the rule on yesterday cuts the last 7 days
    # (18–24 Nov) into 18–23 and 24 Nov, so its only row is in a run ending no period.
    acme = world[0]
    store_days(session, AccountRef(acme.client_account_id, user.id, "CZK"), date(2026, 11, 20),
               date(2026, 11, 20), [row(date(2026, 11, 20), "Mid Season", 10, 2, "70", "0", "0")],
               FETCHED)
    session.commit()
    week = rule(("cost", "ge", "70"), ("cost", "le", "70"), period="last_7_days")

    found = evaluate_rules(session, [rule(("clicks", "gt", "0")), week], world, TODAY)

    [hit] = [h for h in found if h.rule is week]
    assert (hit.campaign_id, hit.entity) == ("mid season", "Acme CZ / Mid Season")


@pytest.fixture
def random_world(session, user):
    """One account (client targets CPA 250, ROAS 2, PNO 50 %) with 40 campaigns of random
    figures yesterday and the day before, some of them empty, with whole and fractional
    conversions (every row with impressions, so every campaign is stored); returns the accounts and each campaign's exact sums by id and day."""
    rng = random.Random(16)
    login = make_service_account(session, user)
    client = Client(user_id=user.id, name="Gamma", currency="CZK", target_cpa=D("250"),
                    target_roas=D("2"), target_pno=D("0.5"))
    session.add(client)
    session.flush()
    account = make_client_account(session, login, name="Gamma CZ", currency="CZK",
                                  client_id=client.id)
    rows, sums = [], {}
    for day in (YESTERDAY - timedelta(days=1), YESTERDAY):
        for n in range(40):
            impressions = rng.choice([1, 10, 400, rng.randint(1, 3000)])  # stored
            clicks = min(impressions, rng.choice([0, 4, 20, rng.randint(0, 150)]))
            cost = rng.choice([D(0), D(clicks * 5), D(rng.randint(0, 300_000)) / 100])
            conversions = rng.choice([D(0), D(1), D(4), D("0.5"), D(rng.randint(0, 900)) / 100])
            value = rng.choice([D(0), cost * 2, D(rng.randint(0, 900_000)) / 100])
            name = f"C{n:02}"
            rows.append(ReportRow(date=day, campaign=name, campaign_id=name.lower(),
                                  impressions=impressions, clicks=clicks, cost=cost,
                                  conversions=conversions, conversion_value=value))
            sums[(name.lower(), day)] = (impressions, clicks, int(cost * 1_000_000),
                                         conversions, int(value * 1_000_000))
    store_days(session, AccountRef(account.id, user.id, "CZK"), YESTERDAY - timedelta(days=1),
               YESTERDAY, rows, FETCHED)
    session.commit()
    return read_accounts(session, [account.id]), sums


def test_the_screening_agrees_with_the_exact_evaluation(session, random_world):
    # Thresholds and percentages are taken from the campaigns' own values, so many of them
    # sit exactly on a boundary; every rule's hits must be those the exact Decimal test
    # (check_condition on the hand-made sums) finds.
    [account], sums = random_world
    ids = sorted({campaign for campaign, _ in sums})
    current = {c: Sums(*sums[(c, YESTERDAY)]) for c in ids}
    before = {c: Sums(*sums[(c, YESTERDAY - timedelta(days=1))]) for c in ids}
    rng = random.Random(1)
    rules = []
    for metric, (_, kind) in METRICS.items():
        values = [v for c in ids if (v := metric_value(current[c], metric)) is not None
                  and v.is_finite()]
        for comparison in THRESHOLDS:
            shown = rng.choice(values) * (100 if kind == "percent" else 1)
            rules.append(Rule(f"{metric} {comparison}", "campaign", "yesterday",
                              (Condition(metric, comparison, shown),)))
        changes = [abs(change) for c in ids if (change := _change(
            metric_value(current[c], metric), metric_value(before[c], metric))) is not None]
        for comparison in CHANGES:
            if comparison.endswith("_previous"):
                rules.append(Rule(f"{metric} {comparison}", "campaign", "yesterday",
                                  (Condition(metric, comparison, rng.choice(changes)),)))
    for metric in TARGET_WORSE:
        rules.append(Rule(f"{metric} target", "campaign", "yesterday",
                          (Condition(metric, "worse_than_target", None),), "clicks", D(4)))

    found = evaluate_rules(session, rules, [account], TODAY)

    for one in rules:
        expected = [c.upper() for c in ids if metric_value(current[c], "clicks") >= (
            one.min_value or 0) and all(check_condition(
                condition, current[c], before[c] if condition.compared_period else None,
                account.targets.of(condition.metric)) for condition in one.conditions)]
        assert [h.campaign for h in found if h.rule is one] == expected, one.name
    assert len(found) > 100  # the data set makes the rules hit, not only miss


def test_no_accounts_or_no_rows_make_no_hits(session, world):  # noqa: F811
    cost = rule(("cost", "le", "1000"))
    old = rule(("cost", "le", "1000"), period="last_30_days")

    assert evaluate_rules(session, [cost], [], TODAY) == []
    # Nothing stored 30 days before the world's first day: no entity, so no hit either.
    assert evaluate_rules(session, [old], world, TODAY + timedelta(days=60)) == []
