"""The dashboard's performance table as data: its lines per client and currency, their
figures against the targets, the totals per currency, the sort."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import (
    Client,
)
from ppc_robot.lib.pacing import (
    Figures,
    MonthWindow,
    Pacing,
    Signal,
    budget_pacing,
    cpa_signal,
    figures_from_sums,
    money_from_micros,
    pno_signal,
    roas_signal,
)

ZERO = Decimal(0)
DEFAULT_TOLERANCE = Decimal(10)


@dataclass(frozen=True)
class Signals:
    """CPA, ROAS and PNO against the client's targets."""

    cpa: Signal = Signal.NONE
    roas: Signal = Signal.NONE
    pno: Signal = Signal.NONE


def target_signals(figures: Figures, client: Client | None, *, same_currency: bool) -> Signals:
    """Green/amber/red of `figures` against the client's targets (amber within its tolerance).

    The CPA target is money in the client's currency: it colours only a line in that currency.
    """
    if client is None:
        return Signals()
    tolerance = client.pacing_tolerance if client.pacing_tolerance is not None else DEFAULT_TOLERANCE
    return Signals(
        cpa=cpa_signal(figures.cost, figures.conversions, client.target_cpa, tolerance)
        if same_currency else Signal.NONE,
        roas=roas_signal(figures.cost, figures.value, client.target_roas, tolerance),
        pno=pno_signal(figures.cost, figures.value, client.target_pno, tolerance),
    )


@dataclass
class PerformanceLine:
    """One client (or the accounts in no client) in one currency."""

    client: Client | None
    currency: str
    pacing: Pacing
    yesterday: Figures
    last_7_days: Figures
    yesterday_signals: Signals
    last_7_days_signals: Signals
    cost_series: list[Decimal]
    has_data: bool
    # The client's budget is in another currency than this line's: it does not apply here.
    budget_elsewhere: bool = False

    @property
    def name(self) -> str:
        return self.client.name if self.client is not None else NO_CLIENT


NO_CLIENT = N_("Accounts in no client")  # a msgid: the web layer shows it translated


@dataclass
class CurrencyTotal:
    """The sum of the lines in one currency (never across currencies)."""

    currency: str
    month_spend: Decimal = Decimal(0)
    budget: Decimal = Decimal(0)
    forecast: Decimal = Decimal(0)
    yesterday: Figures = field(default_factory=Figures)
    last_7_days: Figures = field(default_factory=Figures)
    cost_series: list[Decimal] = field(default_factory=list)


@dataclass(frozen=True)
class StaleAccount:
    client_account_id: int
    name: str
    refreshed_at: datetime | None
    last_error: str | None

    @property
    def collecting(self) -> bool:
        """Its statistics are still being fetched for the first time (nothing went wrong)."""
        return self.refreshed_at is None and not self.last_error

    @property
    def reason(self) -> str:
        if self.last_error:
            return self.last_error
        if self.refreshed_at is None:
            return N_("statistics are being collected")
        return N_("not refreshed for more than a day")


@dataclass(frozen=True)
class Freshness:
    """How current the store is for the user's active accounts."""

    accounts: int
    refreshed: int
    as_of: datetime | None  # the oldest last refresh: every refreshed account is at least this new
    stale: Sequence[StaleAccount]
    stale_count: int
    # Until when these hold as `now` moves on (given the same refresh states): the moment the
    # least recently refreshed of the accounts up to date passes STALE_AFTER; None: no end.
    holds_until: datetime | None = field(default=None, compare=False)

    @property
    def only_collecting(self) -> bool:
        """Every stale account is merely being fetched for the first time: news, not a
        problem."""
        return len(self.stale) == self.stale_count and all(s.collecting for s in self.stale)


@dataclass
class PerformanceTable:
    window: MonthWindow
    lines: list[PerformanceLine]
    totals: list[CurrencyTotal]
    freshness: Freshness
    series_days: list[date]
    sort: str
    # Presentation fragments of this very table (the web layer's rendered rows), kept with it
    # in a TableCache and dropped with it.
    fragments: dict[str, Any] = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        return any(line.has_data for line in self.lines)

    @property
    def series_labels(self) -> list[str]:
        return [day.isoformat() for day in self.series_days]


def _none_last(value: Decimal | None, descending: bool) -> tuple[bool, Decimal]:
    missing = value is None
    return (missing if not descending else not missing, value if value is not None else Decimal(0))


# The sort keys a page may ask for (`?sort=spend`, `?sort=-spend` descending); anything else
# falls back to the name.
SORTS: dict[str, Callable[[PerformanceLine], Any]] = {
    "name": lambda line: (line.client is None, line.name.casefold(), line.currency),
    "spend": lambda line: line.pacing.spend,
    "budget": lambda line: line.pacing.budget,
    "pacing": lambda line: line.pacing.percent,
    "forecast": lambda line: line.pacing.forecast,
    "yesterday_cost": lambda line: line.yesterday.cost,
    "cost_7d": lambda line: line.last_7_days.cost,
    "conversions_7d": lambda line: line.last_7_days.conversions,
    "cpa_7d": lambda line: line.last_7_days.cpa,
    "roas_7d": lambda line: line.last_7_days.roas,
    "pno_7d": lambda line: line.last_7_days.pno,
}
DEFAULT_SORT = "name"


def sort_key(sort: str | None) -> str:
    """`sort` when it names a known column (optionally with "-" for descending), else the name."""
    if sort and sort.lstrip("-") in SORTS:
        return sort
    return DEFAULT_SORT


def sorted_lines(lines: list[PerformanceLine], sort: str) -> list[PerformanceLine]:
    """`lines` in the order of `sort` (a `sort_key`), lines without a value last."""
    descending = sort.startswith("-")
    key = SORTS[sort.lstrip("-")]
    if sort.lstrip("-") == "name":
        return sorted(lines, key=key, reverse=descending)
    lines = sorted(lines, key=SORTS["name"])  # ties stay in name order
    return sorted(lines, key=lambda line: _none_last(key(line), descending), reverse=descending)


def performance_line(client: Client | None, currency: str, row: Any, series: dict[date, int],
                     days: list[date], window: MonthWindow) -> PerformanceLine:
    """A line from a `period_figures` row (None: no statistics) and its daily figures."""
    spend = money_from_micros(int(row.month_cost)) if row is not None else Decimal(0)
    week = (figures_from_sums(row.week_cost, row.week_conversions, row.week_value)
            if row is not None else Figures())
    day = (figures_from_sums(row.day_cost, row.day_conversions, row.day_value)
           if row is not None else Figures())
    same_currency = client is not None and client.currency == currency
    budget = client.monthly_budget if same_currency and client is not None else None
    tolerance = (client.pacing_tolerance if client is not None and client.pacing_tolerance
                 is not None else DEFAULT_TOLERANCE)
    return PerformanceLine(
        client=client, currency=currency,
        pacing=budget_pacing(spend, week.cost, budget, tolerance, window),
        yesterday=day, last_7_days=week,
        yesterday_signals=target_signals(day, client, same_currency=same_currency),
        last_7_days_signals=target_signals(week, client, same_currency=same_currency),
        cost_series=[money_from_micros(series[d]) if d in series else ZERO for d in days],
        has_data=row is not None or bool(series),
        budget_elsewhere=bool(client is not None and client.monthly_budget and not same_currency),
    )


def currency_totals(lines: Sequence[PerformanceLine]) -> list[CurrencyTotal]:
    """Per currency: the lines' spend, budgets, forecasts, yesterday and last 7 days."""
    totals: dict[str, CurrencyTotal] = {}
    for line in lines:
        total = totals.setdefault(line.currency, CurrencyTotal(line.currency))
        total.month_spend += line.pacing.spend
        total.budget += line.pacing.budget or 0
        total.forecast += line.pacing.forecast
        total.yesterday += line.yesterday
        total.last_7_days += line.last_7_days
        total.cost_series = ([a + b for a, b in zip(total.cost_series, line.cost_series, strict=True)]
                             if total.cost_series else list(line.cost_series))
    return [totals[currency] for currency in sorted(totals)]
