"""Screening a rule's entities in columns before the exact check (rules.py).

Every condition becomes two polars masks over the period's sums: `sure`, true where it holds
beyond any doubt, and `maybe`, true where it may hold. They are computed in floats, whose
errors (a few parts in 10¹⁶ for the sums and ratios of integers) sit far inside the margin
`EPS` left around each threshold: an entity with every `sure` is a hit; one with every
`maybe` but not every `sure` (a value at or next to a boundary, such as a CPA of exactly 300
against "CPA ≥ 300") is decided exactly, in Decimal, by `check_condition`; the rest are not
hits. The metrics follow `metric_value`: a ratio without a denominator is undefined (null),
cost with nothing to show for it makes CPA, CPC and PNO infinite.
"""

from __future__ import annotations

import polars as pl

from ppc_robot.lib.alerts.model import TARGET_WORSE, Condition, Rule

EPS = 1e-9  # relative margin around a threshold, a target or a change's percentage
INFINITY = float("inf")
Masks = tuple[pl.Expr, pl.Expr]  # (sure, maybe)


def value(metric: str, suffix: str = "") -> pl.Expr:
    """The metric of the sums in the columns ending in `suffix`, as a float (null when
    undefined, infinite for cost without clicks, conversions or value)."""

    def column(name: str) -> pl.Expr:
        return pl.col(name + suffix).cast(pl.Float64)

    impressions, clicks = column("impressions"), column("clicks")
    cost, worth = column("cost_micros") / 1e6, column("value_micros") / 1e6
    conversions = column("conversions_e4") / 1e4
    plain = {"impressions": impressions, "clicks": clicks, "cost": cost,
             "conversions": conversions, "conversion_value": worth}
    if metric in plain:
        return plain[metric]
    if metric in ("ctr", "conversion_rate", "roas"):
        numerator, denominator = {"ctr": (clicks, impressions),
                                  "conversion_rate": (conversions, clicks),
                                  "roas": (worth, cost)}[metric]
        return pl.when(denominator != 0).then(numerator / denominator)
    denominator = {"cpc": clicks, "cpa": conversions, "pno": worth}[metric]
    return (pl.when(denominator != 0).then(cost / denominator)
            .when(cost != 0).then(pl.lit(INFINITY)))


def _above(current: pl.Expr, limit: pl.Expr | float, margin: pl.Expr | float) -> Masks:
    return ((current > limit + margin).fill_null(False),
            (current >= limit - margin).fill_null(False))


def _below(current: pl.Expr, limit: pl.Expr | float, margin: pl.Expr | float) -> Masks:
    return ((current < limit - margin).fill_null(False),
            (current <= limit + margin).fill_null(False))


def _margin(limit: float) -> float:
    return EPS * max(abs(limit), 1.0)


def condition_masks(condition: Condition) -> Masks:
    """The condition's masks; a target is read from the column `target_<metric>`, an earlier
    period's sums from the columns ending in `_<compared period>`."""
    current = value(condition.metric)
    comparison = condition.comparison
    if comparison == "worse_than_target":
        target = pl.col(f"target_{condition.metric}")
        margin = pl.max_horizontal(target.abs(), pl.lit(1.0)) * EPS
        worse = _above if TARGET_WORSE[condition.metric] == "higher" else _below
        return worse(current, target, margin)
    compared = condition.compared_period
    if compared is None:
        threshold = float(condition.threshold or 0)
        compare = _above if comparison in ("gt", "ge") else _below
        return compare(current, threshold, _margin(threshold))
    before = value(condition.metric, f"_{compared}")
    # The change in percent, defined (as `_change`) only between finite values, from non-zero.
    change = (pl.when(current.is_finite() & before.is_finite() & (before != 0))
              .then((current - before) * 100 / before))
    limit = float(condition.value or 0)
    margin = EPS * (abs(limit) + 100)
    up, down = _above(change, limit, margin), _below(change, -limit, margin)
    if comparison.startswith("up"):
        return up
    if comparison.startswith("down"):
        return down
    return up[0] | down[0], up[1] | down[1]


def rule_masks(rule: Rule) -> Masks:
    """The rule's masks: its minimum volume and every condition."""
    masks = [condition_masks(c) for c in rule.conditions]
    if rule.min_metric and rule.min_value is not None:
        least = float(rule.min_value)
        masks.append(_above(value(rule.min_metric), least, _margin(least)))
    if not masks:
        return pl.lit(True), pl.lit(True)
    return (pl.all_horizontal([sure for sure, _ in masks]),
            pl.all_horizontal([maybe for _, maybe in masks]))
