"""Evaluating custom alert rules on the statistics store: which accounts or campaigns match.

Each rule's period (and the periods its changes compare with) is summed per entity in the
database, one query per level and distinct period (alerts/store.py), so fifty rules over five
hundred accounts cost a handful of queries. Ratios are computed from the sums (CPA is the
period's cost ÷ its conversions, never an average of daily CPAs), exactly, in Decimal.

A ratio without a denominator is undefined (no hit), except cost with nothing to show for it:
CPA, CPC and PNO are then infinite, so "CPA > 300" and "CPA worse than the target" match an
account that spent without converting. A threshold is strict for > and <: a value equal to
it matches only ≥ or ≤; so is a change ("by more than 20 %") and a target ("worse than").
"""

from __future__ import annotations

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
ZERO = Decimal(0)


@dataclass(frozen=True)
class Finding:
    """One condition that held: the metric's value and what it was compared with."""

    condition: Condition
    value: Decimal
    compared: Decimal | None  # the threshold, the earlier period's value or the target
    change: Decimal | None = None  # the change in percent, for a comparison with a period


@dataclass(frozen=True)
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
        if before is None or not before or before.is_infinite() or value.is_infinite():
            return None
        change = (value - before) * HUNDRED / before
        limit = condition.value or ZERO
        moved = change > limit if comparison.startswith("up") else change < -limit
        return Finding(condition, value, before, change) if moved else None
    threshold = condition.threshold
    assert threshold is not None
    holds = {"gt": value > threshold, "ge": value >= threshold,
             "lt": value < threshold, "le": value <= threshold}[comparison]
    return Finding(condition, value, threshold) if holds else None


def _has_volume(rule: Rule, sums: Sums) -> bool:
    if rule.min_metric is None or rule.min_value is None:
        return True
    value = metric_value(sums, rule.min_metric)
    return value is not None and value >= rule.min_value


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
    hits: list[Hit] = []
    for rule, named in windows:
        by_period, names = read[rule.level]
        current_sums = by_period[named["current"]]
        compared = {name: by_period[period] for name, period in named.items()}
        entities = set().union(*(found.keys() for found in compared.values()))
        found_hits = [hit for key in entities
                      if key[0] in by_id and (hit := _hit(rule, by_id[key[0]], key, names,
                                                          named["current"], current_sums,
                                                          compared)) is not None]
        found_hits.sort(key=lambda h: (h.account.name.casefold(), h.account.client_account_id,
                                       h.campaign.casefold(), h.campaign_id))
        hits.extend(found_hits)
    return hits


def _hit(rule: Rule, account: AlertAccount, key: EntityKey, names: dict[EntityKey, str],
         period: Period, current_sums: dict[EntityKey, Sums],
         compared: dict[str, dict[EntityKey, Sums]]) -> Hit | None:
    current = current_sums.get(key) or Sums()
    if not _has_volume(rule, current):
        return None
    findings = []
    for condition in rule.conditions:
        earlier_period = condition.compared_period
        earlier = (compared[earlier_period].get(key) or Sums()) if earlier_period else None
        finding = check_condition(condition, current, earlier,
                                  account.targets.of(condition.metric))
        if finding is None:
            return None
        findings.append(finding)
    return Hit(rule, account, key[1], names.get(key, ""), period, current, tuple(findings))


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
