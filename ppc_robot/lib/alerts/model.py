"""Custom alert rules as data: what a rule says, its metrics, comparisons and periods.

A rule (the `alert_rules` report type's parameters hold a list of them, as JSON) has a name,
a level (every client account, or every campaign), a period, an optional minimum volume and
one or more conditions, all of which must hold. A condition compares a metric of the period
with a threshold, with the same metric of an earlier period (by more than a percentage), or
with the client's target.

Thresholds are typed as the user reads the metric: money in the account's currency, ROAS as
a ratio (4 is 400 %), CTR, PNO and conversion rate in percent (15 is 15 %).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from dateutil.relativedelta import relativedelta

from ppc_robot.lib.i18n import N_, translate
from ppc_robot.lib.periods import Period, period_of

HUNDRED = Decimal(100)

# name → (label, kind): "money" in the account's currency, "count", "ratio", "percent".
METRICS: dict[str, tuple[str, str]] = {
    "cost": ("Cost", "money"),
    "clicks": ("Clicks", "count"),
    "impressions": ("Impressions", "count"),
    "conversions": ("Conversions", "count"),
    "conversion_value": ("Conversion value", "money"),
    "ctr": ("CTR", "percent"),
    "cpc": ("CPC", "money"),
    "cpa": ("CPA", "money"),
    "roas": ("ROAS", "ratio"),
    "pno": ("PNO", "percent"),
    "conversion_rate": ("Conversion rate", "percent"),
}
# The metrics a minimum volume may count (sums, never ratios).
VOLUME_METRICS = ("clicks", "impressions", "cost", "conversions")
# The metrics a client sets a target for, and which way is worse.
TARGET_WORSE = {"cpa": "higher", "roas": "lower", "pno": "higher"}

COMPARISONS: dict[str, str] = {
    "gt": ">",
    "ge": "≥",
    "lt": "<",
    "le": "≤",
    "up_vs_previous": N_("up vs the previous period by more than (%)"),
    "down_vs_previous": N_("down vs the previous period by more than (%)"),
    "up_vs_last_year": N_("up vs the same period last year by more than (%)"),
    "down_vs_last_year": N_("down vs the same period last year by more than (%)"),
    "either_vs_previous": N_("up or down vs the previous period by more than (%)"),
    "either_vs_last_year": N_("up or down vs the same period last year by more than (%)"),
    "worse_than_target": N_("worse than the client's target"),
}
THRESHOLDS = ("gt", "ge", "lt", "le")
CHANGES = ("up_vs_previous", "down_vs_previous", "up_vs_last_year", "down_vs_last_year",
           "either_vs_previous", "either_vs_last_year")

LEVELS = {"account": N_("Client account"), "campaign": N_("Campaign")}
PERIODS = {
    "yesterday": N_("yesterday"),
    "last_7_days": N_("last 7 days"),
    "last_14_days": N_("last 14 days"),
    "last_30_days": N_("last 30 days"),
    "month_to_date": N_("month to date"),
}


@dataclass(frozen=True)
class Condition:
    metric: str
    comparison: str
    value: Decimal | None  # the threshold, or the percentage of a change; None for a target

    @cached_property
    def threshold(self) -> Decimal | None:
        """The threshold in the metric's own unit (percent metrics as fractions)."""
        if self.value is None or self.comparison not in THRESHOLDS:
            return self.value
        return self.value / HUNDRED if METRICS[self.metric][1] == "percent" else self.value

    @cached_property
    def compared_period(self) -> str | None:
        """"previous" or "last_year" for a change, None otherwise."""
        if self.comparison.endswith("_vs_previous"):
            return "previous"
        if self.comparison.endswith("_vs_last_year"):
            return "last_year"
        return None


@dataclass(frozen=True)
class Rule:
    name: str
    level: str
    period: str
    conditions: tuple[Condition, ...]
    min_metric: str | None = None
    min_value: Decimal | None = None

    def windows(self, today: date) -> dict[str, Period]:
        """The rule's period on `today` and the periods its changes compare with."""
        current = period_of(self.period, today)
        windows = {"current": current}
        for condition in self.conditions:
            compared = condition.compared_period
            if compared == "previous":
                windows["previous"] = previous_period(current)
            elif compared == "last_year":
                shift = relativedelta(years=1)
                windows["last_year"] = Period(current.first - shift, current.last - shift)
        return windows


def previous_period(period: Period) -> Period:
    """The as many days just before `period`."""
    shift = relativedelta(days=period.days)
    return Period(period.first - shift, period.last - shift)


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def rules_of(parameters: Mapping[str, Any]) -> list[Rule]:
    """The rules of validated `alert_rules` parameters (current version)."""
    rules = []
    for stored in parameters.get("rules") or []:
        conditions = tuple(Condition(c["metric"], c["comparison"], _decimal(c.get("value")))
                           for c in stored.get("conditions") or [])
        rules.append(Rule(stored["name"], stored["level"], stored["period"], conditions,
                          stored.get("min_metric") or None, _decimal(stored.get("min_value"))))
    return rules


def describe_rule(rule: Rule, locale: str | None = None) -> str:
    """The rule in words, in `locale`: "Campaign, last 7 days, at least 100 clicks: CPA > 300
    and …"."""
    parts = [describe_condition(c, locale) for c in rule.conditions]
    volume = ""
    if rule.min_metric and rule.min_value is not None:
        volume = translate(N_(", at least %(amount)s %(metric)s"), locale) % {
            "amount": rule.min_value,
            "metric": translate(METRICS[rule.min_metric][0], locale).lower()}
    return translate(N_("%(level)s, %(period)s%(volume)s: %(conditions)s"), locale) % {
        "level": translate(LEVELS[rule.level], locale),
        "period": translate(PERIODS[rule.period], locale), "volume": volume,
        "conditions": translate(N_(" and "), locale).join(parts)}


# A change condition in words, per comparison (whole sentences: the grammar differs by language).
CHANGE_WORDS = {
    "up_vs_previous": N_("%(metric)s up more than %(value)s %% vs the previous period"),
    "down_vs_previous": N_("%(metric)s down more than %(value)s %% vs the previous period"),
    "either_vs_previous": N_("%(metric)s up or down more than %(value)s %% vs the previous period"),
    "up_vs_last_year": N_("%(metric)s up more than %(value)s %% vs the same period last year"),
    "down_vs_last_year": N_("%(metric)s down more than %(value)s %% vs the same period last year"),
    "either_vs_last_year": N_("%(metric)s up or down more than %(value)s %% vs the same period "
                              "last year"),
}


def describe_condition(condition: Condition, locale: str | None = None) -> str:
    label = translate(METRICS[condition.metric][0], locale)
    if condition.comparison == "worse_than_target":
        return translate(N_("%(metric)s worse than the client's target"), locale) % {
            "metric": label}
    if condition.comparison in CHANGES:
        return translate(CHANGE_WORDS[condition.comparison], locale) % {
            "metric": label, "value": condition.value}
    unit = " %" if METRICS[condition.metric][1] == "percent" else ""
    return f"{label} {COMPARISONS[condition.comparison]} {condition.value}{unit}"

