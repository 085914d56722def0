"""Budget pacing and targets: pure functions of dates, money and goals.

The statistics store holds settled days only, so everything here runs "through yesterday": the
month shown is the month of the last settled day (`settled_day(today)`), and on the first of a
month that is the whole previous month. Days are calendar dates in the account's own zone; no
function here looks at a clock or a UTC offset, so a DST change is just another day.

Money comes from the store in micros and stays `Decimal`; nothing here converts currencies.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ppc_robot.lib.i18n import N_

MICROS = Decimal(1_000_000)
HUNDRED = Decimal(100)
RUN_RATE_DAYS = 7


class PacingStatus(enum.StrEnum):
    NO_BUDGET = "no_budget"
    UNDER = "under"
    ON_TRACK = "on_track"
    OVER = "over"

    @property
    def label(self) -> str:
        """The status in words (a msgid: pages show it translated)."""
        return {"no_budget": N_("no budget"), "under": N_("under"), "on_track": N_("on track"),
                "over": N_("over")}[self.value]


class Signal(enum.StrEnum):
    """How a figure stands against its goal: green meets it, amber misses it by no more than the
    client's tolerance, red misses it by more; none when there is no goal or no figure."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NONE = "none"


def money_from_micros(micros: int | None) -> Decimal:
    """Micros (1 unit = 1,000,000) as an exact Decimal amount."""
    return Decimal(int(micros or 0)).scaleb(-6)


def settled_day(today: date) -> date:
    """The last day the store holds settled numbers for: yesterday."""
    return today - timedelta(days=1)


@dataclass(frozen=True)
class MonthWindow:
    """The month of the last settled day and the windows the dashboard reads."""

    through: date  # the last settled day (yesterday)
    month_start: date
    days_in_month: int
    days_elapsed: int  # days of the month through `through`, that day included
    run_rate_start: date  # first of the last RUN_RATE_DAYS days through `through`

    @property
    def days_remaining(self) -> int:
        return self.days_in_month - self.days_elapsed

    @property
    def month_end(self) -> date:
        return self.month_start + timedelta(days=self.days_in_month - 1)


def month_window(today: date) -> MonthWindow:
    """The pacing window for a page shown on `today` (a date in the viewer's zone)."""
    through = settled_day(today)
    days_in_month = calendar.monthrange(through.year, through.month)[1]
    return MonthWindow(
        through=through,
        month_start=through.replace(day=1),
        days_in_month=days_in_month,
        days_elapsed=through.day,
        run_rate_start=through - timedelta(days=RUN_RATE_DAYS - 1),
    )


@dataclass(frozen=True)
class Pacing:
    """Month-to-date spend against the monthly budget pro-rated to the last settled day."""

    status: PacingStatus
    signal: Signal
    spend: Decimal  # month to date
    forecast: Decimal  # month end at the last 7 days' run-rate
    budget: Decimal | None
    expected: Decimal | None  # the budget pro-rated to the last settled day
    percent: Decimal | None  # spend ÷ expected × 100: 100 is exactly on pace
    spent_share: Decimal | None  # spend ÷ budget × 100 (the bar's fill)
    expected_share: Decimal  # days elapsed ÷ days in month × 100 (the bar's mark)
    forecast_share: Decimal | None  # forecast ÷ budget × 100


def forecast_spend(spend: Decimal, run_rate_cost: Decimal, window: MonthWindow) -> Decimal:
    """Month-end spend: month to date plus the last 7 days' daily average for each day left."""
    daily = run_rate_cost / RUN_RATE_DAYS
    return spend + daily * window.days_remaining


def budget_pacing(spend: Decimal, run_rate_cost: Decimal, budget: Decimal | None,
                  tolerance: Decimal, window: MonthWindow) -> Pacing:
    """Where `spend` (month to date) stands against `budget`.

    On track while spend is within `tolerance` per cent of the pro-rated budget; beyond it over
    or under. The signal is green on track, amber up to twice the tolerance off, red beyond. A
    client without a budget (None or 0) has status "no budget", never a percentage.
    """
    forecast = forecast_spend(spend, run_rate_cost, window)
    expected_share = Decimal(window.days_elapsed) * HUNDRED / window.days_in_month
    if not budget:
        return Pacing(PacingStatus.NO_BUDGET, Signal.NONE, spend, forecast, None, None, None,
                      None, expected_share, None)
    expected = budget * window.days_elapsed / window.days_in_month
    percent = spend * HUNDRED / expected
    off = abs(percent - HUNDRED)
    if off <= tolerance:
        status, signal = PacingStatus.ON_TRACK, Signal.GREEN
    else:
        status = PacingStatus.OVER if percent > HUNDRED else PacingStatus.UNDER
        signal = Signal.AMBER if off <= 2 * tolerance else Signal.RED
    return Pacing(status, signal, spend, forecast, budget, expected, percent,
                  spend * HUNDRED / budget, expected_share, forecast * HUNDRED / budget)


def cpa(cost: Decimal, conversions: Decimal) -> Decimal | None:
    """Cost per conversion; None without conversions."""
    return cost / conversions if conversions else None


def roas(cost: Decimal, value: Decimal) -> Decimal | None:
    """Conversion value ÷ cost; None without cost."""
    return value / cost if cost else None


def pno(cost: Decimal, value: Decimal) -> Decimal | None:
    """Cost ÷ conversion value (0.15 is 15 %); None without conversion value."""
    return cost / value if value else None


@dataclass(frozen=True)
class Figures:
    """Cost, conversions and conversion value over a period, in one currency."""

    cost: Decimal = Decimal(0)
    conversions: Decimal = Decimal(0)
    value: Decimal = Decimal(0)

    @property
    def cpa(self) -> Decimal | None:
        return cpa(self.cost, self.conversions)

    @property
    def roas(self) -> Decimal | None:
        return roas(self.cost, self.value)

    @property
    def pno(self) -> Decimal | None:
        return pno(self.cost, self.value)

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.cost + other.cost, self.conversions + other.conversions,
                       self.value + other.value)


def figures_from_sums(cost_micros: Any, conversions: Any, value_micros: Any) -> Figures:
    """Figures from micros and conversions as the database returns them: sums may be None, and
    conversions a float (SQLite), made exact by their text."""
    return Figures(money_from_micros(int(cost_micros or 0)), Decimal(str(conversions or 0)),
                   money_from_micros(int(value_micros or 0)))


def _lower_is_better(actual: Decimal | None, target: Decimal | None, spent: bool,
                     tolerance: Decimal) -> Signal:
    if target is None:
        return Signal.NONE
    if actual is None:
        # Money spent and nothing to show for it misses any cost target by more than any band.
        return Signal.RED if spent else Signal.NONE
    if actual <= target:
        return Signal.GREEN
    return Signal.AMBER if actual <= target * (1 + tolerance / HUNDRED) else Signal.RED


def cpa_signal(cost: Decimal, conversions: Decimal, target: Decimal | None,
               tolerance: Decimal) -> Signal:
    """Green at or below the target CPA, amber up to `tolerance` % above it, red beyond; spend
    without conversions is red."""
    return _lower_is_better(cpa(cost, conversions), target, cost > 0, tolerance)


def pno_signal(cost: Decimal, value: Decimal, target: Decimal | None,
               tolerance: Decimal) -> Signal:
    """Green at or below the target PNO, amber up to `tolerance` % above it, red beyond; spend
    without conversion value is red."""
    return _lower_is_better(pno(cost, value), target, cost > 0, tolerance)


def roas_signal(cost: Decimal, value: Decimal, target: Decimal | None,
                tolerance: Decimal) -> Signal:
    """Green at or above the target ROAS, amber down to `tolerance` % below it, red beyond."""
    actual = roas(cost, value)
    if target is None or actual is None:
        return Signal.NONE
    if actual >= target:
        return Signal.GREEN
    return Signal.AMBER if actual >= target * (1 - tolerance / HUNDRED) else Signal.RED


def local_today(now: datetime, zone: ZoneInfo) -> date:
    """The calendar date `now` (aware) falls on in `zone`: the viewer's "today"."""
    return now.astimezone(zone).date()
