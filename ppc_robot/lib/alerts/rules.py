"""Evaluating custom alert rules on the statistics store: which accounts or campaigns match.

Each rule's period (and the periods its changes compare with) is summed per entity in the
database, one query per level and run of days (alerts/store.py), so fifty rules over five
hundred accounts cost a couple of dozen queries; each metric of a period is computed once for
every rule reading it. Ratios are computed from the sums (CPA is the
period's cost ÷ its conversions, never an average of daily CPAs), exactly, in Decimal.

A ratio without a denominator is undefined (no hit), except cost with nothing to show for it:
CPA, CPC and PNO are then infinite, so "CPA > 300" and "CPA worse than the target" match an
account that spent without converting. A threshold is strict for > and <: a value equal to
it matches only ≥ or ≤; so is a change ("by more than 20 %") and a target ("worse than").
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ppc_robot.lib.alerts.model import (
    HUNDRED,
    METRICS,
    PERIODS,
    TARGET_WORSE,
    Condition,
    Period,
    Rule,
)
from ppc_robot.lib.alerts.store import AlertAccount, EntityKey, Sums, read_periods
from ppc_robot.lib.pacing import money_from_micros

INFINITE = Decimal("Infinity")
OPERATORS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
EMPTY = Sums()  # an entity without rows in a period (its metric cache is shared: all zero)
ZERO = Decimal(0)


@dataclass(slots=True)
class Finding:
    """One condition that held: the metric's value and what it was compared with."""

    condition: Condition
    value: Decimal
    compared: Decimal | None  # the threshold, the earlier period's value or the target
    change: Decimal | None = None  # the change in percent, for a comparison with a period


@dataclass(slots=True)
class Hit:
    """A rule that matched an account or a campaign, with the values that made it match."""

    rule: Rule
    account: AlertAccount
    campaign_id: str
    campaign: str
    period: Period
    sums: Sums
    findings: tuple[Finding, ...]

    @property
    def entity(self) -> str:
        """"Acme CZ / Brand" for a campaign, the account's name for an account."""
        return f"{self.account.name} / {self.campaign}" if self.campaign_id else self.account.name

    @property
    def key(self) -> str:
        """Names the hit across runs: the rule and the entity (for the notification)."""
        return f"rule:{self.rule.name}:{self.campaign_id}"[:255]


def metric_value(sums: Sums, metric: str) -> Decimal | None:
    """The metric of summed figures; None when undefined (see the module's note on ∞)."""
    cache = sums.cache
    if metric in cache:
        return cache[metric]
    value = cache[metric] = _compute(sums, metric)
    return value


def _compute(sums: Sums, metric: str) -> Decimal | None:
    if metric == "clicks":
        return Decimal(sums.clicks)
    if metric == "impressions":
        return Decimal(sums.impressions)
    if metric == "conversions":
        return sums.conversions
    if metric == "cost":
        return money_from_micros(sums.cost_micros)
    if metric == "conversion_value":
        return money_from_micros(sums.value_micros)
    if metric == "ctr":
        return Decimal(sums.clicks) / sums.impressions if sums.impressions else None
    if metric == "conversion_rate":
        return sums.conversions / sums.clicks if sums.clicks else None
    if metric == "roas":
        return Decimal(sums.value_micros) / sums.cost_micros if sums.cost_micros else None
    cost = money_from_micros(sums.cost_micros)
    denominator = {"cpc": Decimal(sums.clicks), "cpa": sums.conversions,
                   "pno": money_from_micros(sums.value_micros)}[metric]
    if denominator:
        return cost / denominator
    return INFINITE if cost else None


def check_condition(condition: Condition, current: Sums, earlier: Sums | None,
                    target: Decimal | None) -> Finding | None:
    """The finding when the condition holds on these sums, else None."""
    value = metric_value(current, condition.metric)
    if value is None:
        return None
    comparison = condition.comparison
    if comparison == "worse_than_target":
        if target is None:
            return None
        higher_is_worse = TARGET_WORSE[condition.metric] == "higher"
        worse = value > target if higher_is_worse else value < target
        return Finding(condition, value, target) if worse else None
    if condition.compared_period is not None:
        before = metric_value(earlier, condition.metric) if earlier is not None else None
        change = _change(value, before)
        limit = condition.value or ZERO
        if change is None or not _moved(value, before, limit, comparison.startswith("up")):
            return None
        return Finding(condition, value, before, change)
    threshold = condition.threshold
    assert threshold is not None
    return Finding(condition, value, threshold) if OPERATORS[comparison](value, threshold) \
        else None


class _Metrics:
    """Each metric of every entity over a period, computed once for all the rules reading it."""

    def __init__(self, read: dict[str, tuple[dict[Period, dict[EntityKey, Sums]],
                                             dict[EntityKey, str]]]) -> None:
        self.read = read
        self.cache: dict[tuple[str, Period, str], dict[EntityKey, Decimal | None]] = {}

    def of(self, level: str, period: Period, metric: str,
           ) -> tuple[dict[EntityKey, Decimal | None], Decimal | None]:
        """The metric by entity, and its value for an entity without rows in the period."""
        key = (level, period, metric)
        if key not in self.cache:
            self.cache[key] = {entity: metric_value(sums, metric)
                               for entity, sums in self.read[level][0][period].items()}
        return self.cache[key], metric_value(EMPTY, metric)


def evaluate_rules(session: Session, rules: Sequence[Rule], accounts: Sequence[AlertAccount],
                   today: date) -> list[Hit]:
    """The hits of every rule over the accounts (or their campaigns) on the job's `today`:
    rules in their order, entities by account and campaign name."""
    ids = [a.client_account_id for a in accounts]
    by_id = {a.client_account_id: a for a in accounts}
    windows = [(rule, rule.windows(today)) for rule in rules]
    read = {}
    for level in {rule.level for rule in rules}:
        periods = [p for rule, named in windows if rule.level == level for p in named.values()]
        read[level] = read_periods(session, level, ids, periods)
    metrics = _Metrics(read)
    hits: list[Hit] = []
    for rule, named in windows:
        hits.extend(_rule_hits(rule, named, metrics, by_id))
    return hits


def _rule_hits(rule: Rule, named: dict[str, Period], metrics: _Metrics,
               by_id: dict[int, AlertAccount]) -> list[Hit]:
    """One rule's hits, by account and campaign name.

    Each condition narrows the entities still in the running with one comprehension over a
    metric computed once (`_Metrics`); only the hits get their findings spelled out.
    """
    level, period = rule.level, named["current"]
    by_period, names = metrics.read[level]
    entities = set().union(*(by_period[p].keys() for p in named.values()))
    candidates = [key for key in entities if key[0] in by_id]
    if rule.min_metric and rule.min_value is not None:
        values, default = metrics.of(level, period, rule.min_metric)
        least = rule.min_value
        candidates = [k for k in candidates
                      if (v := values.get(k, default)) is not None and v >= least]
    for condition in rule.conditions:
        values, default = metrics.of(level, period, condition.metric)
        compare = OPERATORS.get(condition.comparison)
        if compare is not None:
            threshold = condition.threshold
            candidates = [k for k in candidates
                          if (v := values.get(k, default)) is not None and compare(v, threshold)]
        elif condition.comparison == "worse_than_target":
            worse = operator.gt if TARGET_WORSE[condition.metric] == "higher" else operator.lt
            targets = {i: a.targets.of(condition.metric) for i, a in by_id.items()}
            candidates = [k for k in candidates
                          if (v := values.get(k, default)) is not None
                          and (t := targets[k[0]]) is not None and worse(v, t)]
        else:
            assert condition.compared_period is not None
            before, before_default = metrics.of(level, named[condition.compared_period],
                                                condition.metric)
            limit = condition.value or ZERO
            up = condition.comparison.startswith("up")
            candidates = [k for k in candidates if _moved(
                values.get(k, default), before.get(k, before_default), limit, up)]
    current_sums = by_period[period]
    found_hits = []
    for key in candidates:
        account = by_id[key[0]]
        current = current_sums.get(key) or EMPTY
        findings = []
        for condition in rule.conditions:
            compared = condition.compared_period
            earlier = (by_period[named[compared]].get(key) or EMPTY) if compared else None
            finding = check_condition(condition, current, earlier,
                                      account.targets.of(condition.metric))
            assert finding is not None  # the same test as the comprehensions above
            findings.append(finding)
        found_hits.append(Hit(rule, account, key[1], names.get(key, key[1]), period, current,
                              tuple(findings)))
    found_hits.sort(key=lambda h: (h.account.name.casefold(), h.account.client_account_id,
                                   h.campaign.casefold(), h.campaign_id))
    return found_hits


def _change(value: Decimal | None, before: Decimal | None) -> Decimal | None:
    """The change from `before` to `value` in percent; None when it cannot be told."""
    if value is None or before is None or not before or before.is_infinite() \
            or value.is_infinite():
        return None
    return (value - before) * HUNDRED / before


def _moved(value: Decimal | None, before: Decimal | None, limit: Decimal, up: bool) -> bool:
    change = _change(value, before)
    if change is None:
        return False
    return change > limit if up else change < -limit


def _figure(metric: str, value: Decimal | None, currency: str) -> str:
    if value is None:
        return "none"
    if value.is_infinite():
        return "∞"
    kind = METRICS[metric][1]
    if kind == "money":
        return f"{value.quantize(Decimal('0.01')):,} {currency}"
    if kind == "percent":
        return f"{(value * HUNDRED).quantize(Decimal('0.01'))} %"
    if kind == "ratio":
        return str(value.quantize(Decimal("0.01")))
    return f"{value.normalize():,f}"


def describe_finding(finding: Finding, period: str, currency: str) -> str:
    """"CPA 412.00 CZK yesterday > 300.00 CZK", as the notification and the table say it."""
    condition = finding.condition
    metric = condition.metric
    label = METRICS[metric][0]
    shown = _figure(metric, finding.value, currency)
    when = PERIODS[period]
    if condition.comparison == "worse_than_target":
        return (f"{label} {shown} {when}, worse than the target "
                f"{_figure(metric, finding.compared, currency)}")
    if finding.change is not None:
        against = ("the previous period" if condition.compared_period == "previous"
                   else "the same period last year")
        return (f"{label} {shown} {when}, {finding.change.quantize(Decimal('0.1')):+} % vs "
                f"{against} ({_figure(metric, finding.compared, currency)})")
    sign = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}[condition.comparison]
    return f"{label} {shown} {when} {sign} {_figure(metric, finding.compared, currency)}"


def describe_hit(hit: Hit) -> str:
    """Every finding of the hit, joined."""
    return "; ".join(describe_finding(f, hit.rule.period, hit.account.currency)
                     for f in hit.findings)
