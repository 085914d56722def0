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

Pure functions of the stored days (`detect_anomalies`); `read_days` reads them in a constant
number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.bounds import Bound
from ppc_robot.lib.models.stats import AccountDay, CampaignDay

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

    def get(self, metric: str) -> Decimal:
        return Decimal(getattr(self, metric))


ZERO = Values()


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


def median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def band(history: Sequence[Decimal], sensitivity: Decimal, *, is_count: bool,
         ) -> tuple[Decimal, Decimal, Decimal]:
    """(expected, low, high) of a metric from its history."""
    expected = median(history)
    spread = MAD_SCALE * median([abs(v - expected) for v in history])
    floor = RELATIVE_FLOOR * abs(expected)
    if is_count:
        floor = max(floor, max(expected, Decimal(1)).sqrt())
    width = sensitivity * max(spread, floor)
    return expected, max(expected - width, Decimal(0)), expected + width


def _judge(item: EntityDays, yesterday: date, days: Sequence[date], *, required: int,
           sensitivity: Decimal, min_volume: int, detection: Detection) -> None:
    entity = item.entity
    known = [d for d in days if d in item.days]
    actual = item.days.get(yesterday)
    if actual is None:
        detection.unjudged.append(Unjudged(entity, len(known), "no numbers for yesterday"))
        return
    if len(known) < required:
        detection.unjudged.append(Unjudged(
            entity, len(known), f"{len(known)} of the {required} weeks of history needed"))
        return
    history = [item.days[d] for d in known]
    costs = [v.cost for v in history]
    if entity.campaign_id and actual.impressions == 0 and median(costs) > 0:
        series = [Decimal(v.impressions) for v in history]
        expected, low, high = band(series, sensitivity, is_count=True)
        detection.anomalies.append(Anomaly(entity, "impressions", yesterday, Decimal(0), expected,
                                           low, high, "no impressions",
                                           tuple(zip(known, series, strict=True))))
        return
    clicks = median([Decimal(v.clicks) for v in history])
    if max(clicks, actual.clicks) < min_volume:
        detection.below_volume += 1
        return
    for metric in METRICS:
        series = [v.get(metric) for v in history]
        expected, low, high = band(series, sensitivity, is_count=metric != "cost")
        value = actual.get(metric)
        if low <= value <= high:
            detection.in_range.append((entity, metric))
            continue
        detection.anomalies.append(Anomaly(
            entity, metric, yesterday, value, expected, low, high,
            "above" if value > high else "below", tuple(zip(known, series, strict=True))))


def detect_anomalies(entities: Iterable[EntityDays], yesterday: date, *,
                     weeks: int = DEFAULT_WEEKS, sensitivity: Decimal = DEFAULT_SENSITIVITY,
                     min_volume: int = DEFAULT_MIN_VOLUME) -> Detection:
    """Judge each entity's yesterday against its history; see the module's docstring."""
    if not WEEKS.contains(weeks) or not SENSITIVITY.contains(sensitivity):
        raise ValueError("weeks or sensitivity out of range")
    days = compared_days(yesterday, weeks)
    required = min(weeks, MIN_HISTORY_WEEKS)
    detection = Detection()
    for item in entities:
        _judge(item, yesterday, days, required=required, sensitivity=sensitivity,
               min_volume=min_volume, detection=detection)
    return detection


@dataclass(frozen=True)
class AccountInfo:
    client_account_id: int
    name: str
    currency: str


def _values(cost_micros: int, clicks: int, impressions: int, conversions: Decimal) -> Values:
    return Values(Decimal(cost_micros) / MICROS, clicks, impressions, Decimal(conversions))


def read_days(session: Session, accounts: Sequence[AccountInfo], yesterday: date,
              weeks: int) -> list[EntityDays]:
    """The accounts' and their campaigns' stored days compared, in two queries (a batch of
    accounts per query past 500). A campaign missing on a day its account has is zero that day,
    from its first day among those read."""
    days = compared_days(yesterday, weeks) + [yesterday]
    result: list[EntityDays] = []
    for start in range(0, len(accounts), 500):
        batch = {a.client_account_id: a for a in accounts[start:start + 500]}
        result += _read_batch(session, batch, days)
    return result


def _read_batch(session: Session, batch: Mapping[int, AccountInfo],
                days: list[date]) -> list[EntityDays]:
    account_days: dict[int, EntityDays] = {
        i: EntityDays(Entity(i, a.name, a.currency)) for i, a in batch.items()}
    for account_id, day, cost, clicks, impressions, conversions in session.execute(select(
            AccountDay.client_account_id, AccountDay.day, AccountDay.cost_micros,
            AccountDay.clicks, AccountDay.impressions, AccountDay.conversions).where(
            AccountDay.client_account_id.in_(list(batch)), AccountDay.day.in_(days))):
        account_days[account_id].days[day] = _values(cost, clicks, impressions, conversions)
    campaigns: dict[tuple[int, str], EntityDays] = {}
    names: dict[tuple[int, str], tuple[date, str]] = {}
    for account_id, campaign_id, name, day, cost, clicks, impressions, conversions in (
            session.execute(select(
                CampaignDay.client_account_id, CampaignDay.campaign_id,
                CampaignDay.campaign_name, CampaignDay.day, CampaignDay.cost_micros,
                CampaignDay.clicks, CampaignDay.impressions, CampaignDay.conversions).where(
                CampaignDay.client_account_id.in_(list(batch)), CampaignDay.day.in_(days)))):
        key = (account_id, campaign_id)
        item = campaigns.get(key)
        if item is None:
            item = campaigns[key] = EntityDays(Entity(account_id, "", "", campaign_id, name))
        item.days[day] = _values(cost, clicks, impressions, conversions)
        if key not in names or names[key][0] < day:
            names[key] = (day, name)  # the newest name, as the platform shows it now
    result = list(account_days.values())
    for (account_id, campaign_id), item in sorted(campaigns.items()):
        info = batch[account_id]
        first = min(item.days)
        stored = account_days[account_id].days
        filled = {d: item.days.get(d, ZERO) for d in stored if d >= first}
        result.append(EntityDays(Entity(account_id, info.name, info.currency, campaign_id,
                                        names[(account_id, campaign_id)][1]), filled))
    return result
