"""Anomaly detection: yesterday against the same weekday of the last weeks.

For each client account and each of its campaigns, yesterday's cost, clicks, impressions and
conversions are compared with the same weekday over the last `weeks` weeks. The expected value
is the median of those days and the band around it is `sensitivity` robust standard deviations
(1.4826 × the median absolute deviation, which one outlying week cannot inflate), at least 5 %
of the median, and for counts at least the Poisson noise √median, so a steady series does not
make every small wobble an anomaly. An entity whose clicks stay under the minimum volume is
not judged. A campaign that spent on most of those weekdays and had no impressions yesterday
is always an anomaly. Without enough weeks of history an entity is listed as such and judged
on nothing.

A pure function of the stored days (`detect_anomalies`), vectorised with polars so 10,000
campaigns take a fraction of a second; `anomalies_read.read_days` reads them from the store in
a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from ppc_robot.lib.bounds import Bound

METRICS = ("cost", "clicks", "impressions", "conversions")
METRIC_LABELS = {"cost": "Cost", "clicks": "Clicks", "impressions": "Impressions",
                 "conversions": "Conversions"}
WEEKS = Bound(2, 26, "a number of weeks")
SENSITIVITY = Bound(Decimal(1), Decimal(10), "a sensitivity",
                    " (robust standard deviations: 3 is usual, lower flags more)")
MIN_VOLUME = Bound(0, 1_000_000, "a number of clicks")
DEFAULT_WEEKS = 8
DEFAULT_SENSITIVITY = Decimal(3)
DEFAULT_MIN_VOLUME = 10
# Fewer weeks than this (or than `weeks`, when it asks for fewer) cannot give a median to trust.
MIN_HISTORY_WEEKS = 4
MAD_SCALE = Decimal("1.4826")  # MAD × this estimates the standard deviation of normal noise
RELATIVE_FLOOR = Decimal("0.05")
MICROS = Decimal(1_000_000)


@dataclass(frozen=True)
class Values:
    """One day of one account or campaign; cost in the account's currency."""

    cost: Decimal = Decimal(0)
    clicks: int = 0
    impressions: int = 0
    conversions: Decimal = Decimal(0)


@dataclass(frozen=True)
class Entity:
    """A client account (campaign_id None) or one of its campaigns."""

    client_account_id: int
    account: str
    currency: str
    campaign_id: str | None = None
    campaign: str | None = None

    @property
    def label(self) -> str:
        return f"{self.account} / {self.campaign}" if self.campaign_id else self.account


@dataclass
class EntityDays:
    """What the store holds of one entity on the days compared (absent: not stored)."""

    entity: Entity
    days: dict[date, Values] = field(default_factory=dict)


@dataclass(frozen=True)
class Anomaly:
    entity: Entity
    metric: str
    day: date
    actual: Decimal
    expected: Decimal
    low: Decimal
    high: Decimal
    reason: str  # "above", "below" or "no impressions"
    history: tuple[tuple[date, Decimal], ...]

    @property
    def change(self) -> Decimal | None:
        """The actual value against the expected one, as a fraction (None: nothing expected)."""
        return None if not self.expected else (self.actual - self.expected) / self.expected


@dataclass(frozen=True)
class Unjudged:
    """An entity without enough history (or without yesterday's numbers)."""

    entity: Entity
    weeks: int
    reason: str


@dataclass
class Detection:
    anomalies: list[Anomaly] = field(default_factory=list)
    unjudged: list[Unjudged] = field(default_factory=list)
    # (entity, metric) pairs judged in range: their open notifications resolve.
    in_range: list[tuple[Entity, str]] = field(default_factory=list)
    below_volume: int = 0


def compared_days(yesterday: date, weeks: int) -> list[date]:
    """The same weekday over the last `weeks` weeks, oldest first."""
    return [yesterday - timedelta(days=7 * k) for k in range(weeks, 0, -1)]


@dataclass
class StoredDays:
    """The days compared of many entities as one frame: `client_account_id`, `campaign_id`
    ("" for the account itself), `day`, `cost` (micros), `clicks`, `impressions`,
    `conversions`; a row per day the store holds (a campaign's missing days filled with zero
    where its account has the day), and each entity's names."""

    frame: pl.DataFrame
    entities: dict[tuple[int, str], Entity]


SCHEMA = {"client_account_id": pl.Int64, "campaign_id": pl.String, "day": pl.Date,
          "cost": pl.Int64, "clicks": pl.Int64, "impressions": pl.Int64,
          "conversions": pl.Float64}
KEY = ["client_account_id", "campaign_id"]


def stored_days_of(items: Iterable[EntityDays]) -> StoredDays:
    """StoredDays of entities given day by day (tests and small callers)."""
    rows: list[tuple[Any, ...]] = []
    entities = {}
    for item in items:
        key = (item.entity.client_account_id, item.entity.campaign_id or "")
        entities[key] = item.entity
        rows += [(key[0], key[1], day, int(values.cost * MICROS), values.clicks,
                  values.impressions, float(values.conversions))
                 for day, values in item.days.items()]
    return StoredDays(pl.DataFrame(rows, schema=SCHEMA, orient="row"), entities)


def _bands(frame: pl.DataFrame, sensitivity: float) -> pl.DataFrame:
    """Each metric's expected value (median) and band, and whether yesterday is outside it."""
    columns = []
    for metric in METRICS:
        expected, mad = pl.col(f"{metric}_med"), pl.col(f"{metric}_mad")
        floor = float(RELATIVE_FLOOR) * expected.abs()
        if metric != "cost":
            floor = pl.max_horizontal(floor, pl.max_horizontal(expected, pl.lit(1.0)).sqrt())
        width = sensitivity * pl.max_horizontal(float(MAD_SCALE) * mad, floor)
        low = pl.max_horizontal(expected - width, pl.lit(0.0))
        high = expected + width
        actual = pl.col(f"{metric}_y")
        columns += [low.alias(f"{metric}_low"), high.alias(f"{metric}_high"),
                    ((actual < low) | (actual > high)).alias(f"{metric}_out")]
    return frame.with_columns(columns)


def _summary(days: StoredDays, yesterday: date, compared: list[date]) -> pl.DataFrame:
    """One row per entity: weeks of history, medians, MADs and yesterday's values."""
    frame = days.frame
    history = frame.filter(pl.col("day").is_in(compared))
    medians = history.group_by(KEY).agg(
        pl.len().alias("weeks"), *[pl.col(m).median().alias(f"{m}_med") for m in METRICS])
    deviations = history.join(medians, on=KEY).group_by(KEY).agg(
        *[(pl.col(m) - pl.col(f"{m}_med")).abs().median().alias(f"{m}_mad") for m in METRICS])
    actual = frame.filter(pl.col("day") == yesterday).select(
        *KEY, *[pl.col(m).cast(pl.Float64).alias(f"{m}_y") for m in METRICS])
    everyone = pl.DataFrame(list(days.entities), schema={"client_account_id": pl.Int64,
                                                         "campaign_id": pl.String}, orient="row")
    return (everyone.join(medians, on=KEY, how="left").join(deviations, on=KEY, how="left")
            .join(actual, on=KEY, how="left").with_columns(pl.col("weeks").fill_null(0)))


def _decimal(value: float | int | None, metric: str) -> Decimal:
    number = Decimal(str(value or 0))
    return number / MICROS if metric == "cost" else number


def detect_anomalies(days: StoredDays | Iterable[EntityDays], yesterday: date, *,
                     weeks: int = DEFAULT_WEEKS, sensitivity: Decimal = DEFAULT_SENSITIVITY,
                     min_volume: int = DEFAULT_MIN_VOLUME) -> Detection:
    """Judge each entity's yesterday against its history; see the module's docstring."""
    if not WEEKS.contains(weeks) or not SENSITIVITY.contains(sensitivity):
        raise ValueError("weeks or sensitivity out of range")
    if not isinstance(days, StoredDays):
        days = stored_days_of(days)
    compared = compared_days(yesterday, weeks)
    required = min(weeks, MIN_HISTORY_WEEKS)
    table = _bands(_summary(days, yesterday, compared), float(sensitivity))
    has_yesterday = pl.col("cost_y").is_not_null()
    judged = has_yesterday & (pl.col("weeks") >= required)
    stopped = (judged & (pl.col("campaign_id") != "") & (pl.col("impressions_y") == 0)
               & (pl.col("cost_med") > 0))
    small = (judged & ~stopped
             & (pl.max_horizontal("clicks_med", "clicks_y") < min_volume))
    table = table.with_columns(has_yesterday.alias("has_yesterday"), judged.alias("judged"),
                               stopped.alias("stopped"), small.alias("small"))
    detection = Detection(below_volume=table.filter("small").height)
    for key, count, seen in table.filter(~pl.col("judged")).select(
            pl.struct(KEY), "weeks", "has_yesterday").iter_rows():
        entity = days.entities[(key["client_account_id"], key["campaign_id"])]
        reason = (f"{count} of the {required} weeks of history needed" if seen
                  else "no numbers for yesterday")
        detection.unjudged.append(Unjudged(entity, count, reason))
    rated = table.filter(pl.col("judged") & ~pl.col("small"))
    for metric in METRICS:
        fine = rated.filter(~pl.col("stopped") & ~pl.col(f"{metric}_out"))
        detection.in_range += [
            (days.entities[key], metric) for key in zip(
                fine.get_column("client_account_id").to_list(),
                fine.get_column("campaign_id").to_list(), strict=True)]
    flagged = rated.filter(pl.col("stopped") | pl.any_horizontal(
        [pl.col(f"{metric}_out") for metric in METRICS]))
    found: list[tuple[tuple[int, str], str, str, dict[str, Any]]] = []
    for row in flagged.iter_rows(named=True):
        key = (row["client_account_id"], row["campaign_id"])
        if row["stopped"]:
            found.append((key, "impressions", "no impressions", row))
            continue
        for metric in METRICS:
            if row[f"{metric}_out"]:
                reason = "above" if row[f"{metric}_y"] > row[f"{metric}_high"] else "below"
                found.append((key, metric, reason, row))
    histories = _histories(days.frame, compared, {key for key, *_ in found})
    for key, metric, reason, row in found:
        history = tuple((day, _decimal(values[metric], metric))
                        for day, values in histories.get(key, []))
        detection.anomalies.append(Anomaly(
            days.entities[key], metric, yesterday, _decimal(row[f"{metric}_y"], metric),
            _decimal(row[f"{metric}_med"], metric), _decimal(row[f"{metric}_low"], metric),
            _decimal(row[f"{metric}_high"], metric), reason, history))
    return detection


def _histories(frame: pl.DataFrame, compared: list[date], keys: set[tuple[int, str]],
               ) -> dict[tuple[int, str], list[tuple[date, dict[str, Any]]]]:
    """The compared days of a few entities, oldest first (the anomalies' charts)."""
    if not keys:
        return {}
    wanted = pl.DataFrame(list(keys), schema={"client_account_id": pl.Int64,
                                              "campaign_id": pl.String}, orient="row")
    rows = frame.filter(pl.col("day").is_in(compared)).join(wanted, on=KEY).sort("day")
    result: dict[tuple[int, str], list[tuple[date, dict[str, Any]]]] = {}
    for row in rows.iter_rows(named=True):
        result.setdefault((row["client_account_id"], row["campaign_id"]), []).append(
            (row["day"], row))
    return result
