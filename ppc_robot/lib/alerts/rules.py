"""Evaluating custom alert rules on the statistics store: which accounts or campaigns match.

Each rule's period (and the periods its changes compare with) is summed per entity in the
database, one statement per level (alerts/store.py), so fifty rules over five hundred accounts
cost two statements. Each rule screens every entity in columns (alerts/screen.py) and decides
those at a boundary exactly. Ratios are computed from the sums (CPA is the period's cost ÷ its
conversions, never an average of daily CPAs); the values shown are exact, in Decimal.

A ratio without a denominator is undefined (no hit), except cost with nothing to show for it:
CPA, CPC and PNO are then infinite, so "CPA > 300" and "CPA worse than the target" match an
account that spent without converting. A threshold is strict for > and <: a value equal to
it matches only ≥ or ≤; so is a change ("by more than 20 %") and a target ("worse than").
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
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
from ppc_robot.lib.alerts.screen import rule_masks
from ppc_robot.lib.alerts.store import (
    KEY,
    SUM_COLUMNS,
    AlertAccount,
    EntityKey,
    Sums,
    read_periods,
    sums_of,
)
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.message_values import (
    money_value,
    number_value,
    percent_value,
    sentence_value,
    value_text,
)
from ppc_robot.lib.pacing import money_from_micros

INFINITE = Decimal("Infinity")
OPERATORS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
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
    """A rule that matched an account or a campaign, with the sums that made it match; its
    findings (the values, spelled out only for the hits shown) are worked out when read."""

    rule: Rule
    account: AlertAccount
    campaign_id: str
    campaign: str
    period: Period
    # The sums (store.SUM_COLUMNS) of the period, then of each period in `compared`.
    figures: tuple[int, ...]
    compared: tuple[str, ...] = ()  # "previous", "last_year"
    _sums: Sums | None = field(default=None, repr=False, compare=False)
    _findings: tuple[Finding, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def sums(self) -> Sums:
        """The period's sums."""
        if self._sums is None:
            self._sums = sums_of(self.figures[:5])
        return self._sums

    @property
    def earlier(self) -> dict[str, Sums]:
        """The sums of the periods the rule's changes compare with."""
        return {name: sums_of(self.figures[5 * n + 5:5 * n + 10])
                for n, name in enumerate(self.compared)}

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Each condition's finding, in the rule's order."""
        if self._findings is None:
            found, earlier = [], self.earlier
            for condition in self.rule.conditions:
                compared = condition.compared_period
                finding = check_condition(
                    condition, self.sums, earlier.get(compared) if compared else None,
                    self.account.targets.of(condition.metric))
                assert finding is not None  # the hit's every condition held
                found.append(finding)
            self._findings = tuple(found)
        return self._findings

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
        if change is None or not _moved(value, before, limit, comparison.split("_")[0]):
            return None
        return Finding(condition, value, before, change)
    threshold = condition.threshold
    assert threshold is not None
    return Finding(condition, value, threshold) if OPERATORS[comparison](value, threshold) \
        else None


def evaluate_rules(session: Session, rules: Sequence[Rule], accounts: Sequence[AlertAccount],
                   today: date) -> list[Hit]:
    """The hits of every rule over the accounts (or their campaigns) on the job's `today`:
    rules in their order, entities by account and campaign name.

    The sums come in columns (one statement per level, store.py); each rule screens them in
    floats (screen.py) and decides the entities at its boundaries exactly, in Decimal."""
    ids = [a.client_account_id for a in accounts]
    by_id = {a.client_account_id: a for a in accounts}
    windows = [(rule, rule.windows(today)) for rule in rules]
    read = {}
    for level in {rule.level for rule in rules}:
        periods = [p for rule, named in windows if rule.level == level for p in named.values()]
        by_period, names = read_periods(session, level, ids, periods)
        read[level] = (by_period, names, _entities(by_period, names, by_id))
    hits: list[Hit] = []
    for rule, named in windows:
        hits.extend(_rule_hits(rule, named, *read[rule.level], by_id))
    return hits


def _entities(by_period: dict[Period, pl.DataFrame], names: dict[EntityKey, str],
              by_id: dict[int, AlertAccount]) -> pl.DataFrame:
    """Every entity read at a level, with its rank in the hits' order (account name and id,
    campaign name and id) and its account's targets as floats (for screen.py)."""
    keys = pl.concat([frame.select(KEY) for frame in by_period.values()]).unique().rows()
    order = sorted((key for key in keys if key[0] in by_id), key=lambda key: (
        by_id[key[0]].name.casefold(), key[0], names.get(key, key[1]).casefold(), key[1]))
    targets: dict[str, list[float | None]] = {metric: [] for metric in TARGET_WORSE}
    for account_id, _ in order:
        for metric, column in targets.items():
            target = by_id[account_id].targets.of(metric)
            column.append(None if target is None else float(target))
    return pl.DataFrame(
        {"client_account_id": [k[0] for k in order], "campaign_id": [k[1] for k in order],
         "rank": range(len(order))}
        | {f"target_{metric}": column for metric, column in targets.items()},
        schema_overrides={"client_account_id": pl.Int64, "campaign_id": pl.String,
                          "rank": pl.Int64} | {f"target_{m}": pl.Float64 for m in targets})


def _rule_hits(rule: Rule, named: dict[str, Period], by_period: dict[Period, pl.DataFrame],
               names: dict[EntityKey, str], entities: pl.DataFrame,
               by_id: dict[int, AlertAccount]) -> list[Hit]:
    """One rule's hits, by account and campaign name: the entities with rows in any of its
    periods, screened in columns (`rule_masks`); those at a boundary are decided exactly."""
    frame = entities.lazy()
    sums, seen = [], []
    for name, period in named.items():
        suffix = "" if name == "current" else f"_{name}"
        columns = [f"{column}{suffix}" for column in SUM_COLUMNS]
        frame = frame.join(by_period[period].lazy()
                           .rename(dict(zip(SUM_COLUMNS, columns, strict=True)))
                           .with_columns(pl.lit(True).alias(f"seen{suffix}")),
                           on=KEY, how="left")
        sums += columns
        seen.append(f"seen{suffix}")
    sure, maybe = rule_masks(rule)
    found = (frame.filter(pl.any_horizontal(pl.col(seen).fill_null(False)))
             .with_columns(pl.col(sums).fill_null(0))
             .filter(maybe).sort("rank").select(*KEY, sure.alias("sure"), *sums).collect())
    compared = tuple(name for name in named if name != "current")
    period = named["current"]
    found_hits = []
    for account_id, campaign_id, sure, *figures in found.iter_rows():
        hit = Hit(rule, by_id[account_id], campaign_id,
                  names.get((account_id, campaign_id), campaign_id), period, tuple(figures),
                  compared)
        if sure or _holds(hit):
            found_hits.append(hit)
    return found_hits


def _holds(hit: Hit) -> bool:
    """The rule tested exactly on one entity's sums."""
    rule, account, current, earlier = hit.rule, hit.account, hit.sums, hit.earlier
    if rule.min_metric and rule.min_value is not None:
        volume = metric_value(current, rule.min_metric)
        if volume is None or volume < rule.min_value:
            return False
    for condition in rule.conditions:
        compared = condition.compared_period
        if check_condition(condition, current, earlier.get(compared) if compared else None,
                           account.targets.of(condition.metric)) is None:
            return False
    return True


def _change(value: Decimal | None, before: Decimal | None) -> Decimal | None:
    """The change from `before` to `value` in percent; None when it cannot be told."""
    if value is None or before is None or not before or before.is_infinite() \
            or value.is_infinite():
        return None
    return (value - before) * HUNDRED / before


def _moved(value: Decimal | None, before: Decimal | None, limit: Decimal, way: str) -> bool:
    """Whether the change is more than `limit` percent `way` ("up", "down" or "either")."""
    change = _change(value, before)
    if change is None:
        return False
    return (way != "down" and change > limit) or (way != "up" and change < -limit)


def _figure(metric: str, value: Decimal | None, currency: str) -> Any:
    """A metric's value as a message parameter, written in each reader's language."""
    if value is None:
        return sentence_value(N_("none"))
    if value.is_infinite():
        return "∞"
    kind = METRICS[metric][1]
    if kind == "money":
        return money_value(value, currency)
    if kind == "percent":
        return percent_value(value, 2)
    if kind == "ratio":
        return number_value(value, 2)
    return number_value(value.normalize(), None)


def describe_finding(finding: Finding, period: str, currency: str) -> dict[str, Any]:
    """"CPA CZK 412.00 yesterday > CZK 300.00", as the notification and the table say it: a
    sentence value (`lib/message_values.py`), put together in each reader's language."""
    condition = finding.condition
    metric = condition.metric
    parts = {"metric": sentence_value(METRICS[metric][0]),
             "value": _figure(metric, finding.value, currency),
             "period": sentence_value(PERIODS[period]),
             "compared": _figure(metric, finding.compared, currency)}
    if condition.comparison == "worse_than_target":
        return sentence_value(N_("%(metric)s %(value)s %(period)s, worse than the target "
                                 "%(compared)s"), **parts)
    if finding.change is not None:
        change = percent_value(finding.change / HUNDRED, 1, signed=True)
        if condition.compared_period == "previous":
            return sentence_value(N_("%(metric)s %(value)s %(period)s, %(change)s vs the "
                                     "previous period (%(compared)s)"), change=change, **parts)
        return sentence_value(N_("%(metric)s %(value)s %(period)s, %(change)s vs the same "
                                 "period last year (%(compared)s)"), change=change, **parts)
    sign = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}[condition.comparison]
    return sentence_value(N_("%(metric)s %(value)s %(period)s %(sign)s %(compared)s"),
                          sign=sign, **parts)


def describe_hit(hit: Hit) -> list[dict[str, Any]]:
    """Every finding of the hit (a list value: its sentences joined by "; " when shown)."""
    return [describe_finding(f, hit.rule.period, hit.account.currency) for f in hit.findings]


def hit_text(hit: Hit, locale: str = "en") -> str:
    """The hit's findings as one sentence in `locale` (the output table's, English)."""
    return str(value_text(describe_hit(hit), locale))
