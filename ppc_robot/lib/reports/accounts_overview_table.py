"""The accounts overview computed from the statistics store's daily account rows: pure
functions of the rows, the clients' goals and the job's day (unit-tested alone).

Budget and pacing are the client's, not an account's: the client's monthly budget (in the
client's currency) is compared with the month-to-date spend of all its accounts *in that
currency* in the report. Each account row repeats its client's budget, pacing and forecast
(so a sorted or filtered sheet still shows them), and a client row after the client's accounts
sums them. An account in another currency than its client's gets no pacing (money is never
converted), nor does an account without a client. The totals per currency (of account rows
only, never across currencies) are the outputs' shared ones (lib/outputs/totals.py).

Conversions, conversion value, CPA, ROAS and PNO are month to date, coloured against the
client's targets with the client's pacing tolerance (lib/pacing.py's signals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ppc_robot.lib.pacing import (
    MonthWindow,
    Pacing,
    Signal,
    budget_pacing,
    cpa,
    cpa_signal,
    money_from_micros,
    month_window,
    pno,
    pno_signal,
    roas,
    roas_signal,
)

ZERO = Decimal(0)
WEEK_DAYS = 7


@dataclass(frozen=True)
class OverviewAccount:
    client_account_id: int
    name: str
    platform: str
    currency: str
    client_id: int | None


@dataclass(frozen=True)
class ClientGoals:
    client_id: int
    name: str
    currency: str
    budget: Decimal | None
    tolerance: Decimal
    target_cpa: Decimal | None = None
    target_roas: Decimal | None = None
    target_pno: Decimal | None = None


@dataclass(frozen=True)
class StoredDay:
    """One AccountDay as the overview reads it."""

    cost_micros: int
    conversions: Decimal
    value_micros: int


@dataclass
class Figures:
    cost: Decimal = ZERO
    conversions: Decimal = ZERO
    value: Decimal = ZERO

    def add(self, other: Figures) -> None:
        self.cost += other.cost
        self.conversions += other.conversions
        self.value += other.value

    @classmethod
    def of(cls, day: StoredDay) -> Figures:
        return cls(money_from_micros(day.cost_micros), Decimal(day.conversions),
                   money_from_micros(day.value_micros))


@dataclass
class OverviewRow:
    kind: str  # "account" or "client"
    client: str
    account: str
    platform: str
    currency: str
    yesterday: Figures = field(default_factory=Figures)
    week: Figures = field(default_factory=Figures)
    month: Figures = field(default_factory=Figures)
    client_id: int | None = None
    client_account_id: int | None = None
    pacing: Pacing | None = None
    goals: ClientGoals | None = None
    signals: dict[str, Signal] = field(default_factory=dict)
    # In a reporting currency: the account's own currency and its month's effective rate.
    original_currency: str = ""
    rate: Decimal | None = None

    def values(self) -> dict[str, object]:
        """The row's cells by column name (money as Decimal, ratios as Decimal fractions)."""
        pacing, goals = self.pacing, self.goals
        same = goals is not None and goals.currency == self.currency
        return {
            "row": {"account": "Account", "client": "Client"}[self.kind],
            "client": self.client, "client_account": self.account, "platform": self.platform,
            "currency": self.currency,
            "original_currency": self.original_currency, "rate": self.rate,
            "cost_yesterday": self.yesterday.cost, "cost_7_days": self.week.cost,
            "cost_month": self.month.cost,
            "budget": pacing.budget if pacing else None,
            "expected": pacing.expected if pacing else None,
            "pacing": pacing.percent / 100 if pacing and pacing.percent is not None else None,
            "forecast": pacing.forecast if pacing and pacing.budget else None,
            "conversions": self.month.conversions, "conversion_value": self.month.value,
            "cpa": cpa(self.month.cost, self.month.conversions),
            "roas": roas(self.month.cost, self.month.value),
            "pno": pno(self.month.cost, self.month.value),
            "target_cpa": goals.target_cpa if goals and same else None,
            "target_roas": goals.target_roas if goals else None,
            "target_pno": goals.target_pno if goals else None,
        }


@dataclass
class Overview:
    window: MonthWindow
    rows: list[OverviewRow]
    client_pacing: dict[int, Pacing]

    @property
    def currencies(self) -> list[str]:
        return sorted({r.currency for r in self.rows if r.kind == "account"})


def period_start(today: date, target_days: int) -> date:
    """The first day the overview reads: the month's first, 7 days back or the streak's start."""
    window = month_window(today)
    return min(window.month_start, window.run_rate_start,
               window.through - timedelta(days=target_days - 1))


def _signals(figures: Figures, goals: ClientGoals | None, currency: str) -> dict[str, Signal]:
    if goals is None:
        return {}
    tolerance = goals.tolerance
    signals = {
        "roas": roas_signal(figures.cost, figures.value, goals.target_roas, tolerance),
        "pno": pno_signal(figures.cost, figures.value, goals.target_pno, tolerance),
    }
    if goals.currency == currency:  # a CPA target is money in the client's currency
        signals["cpa"] = cpa_signal(figures.cost, figures.conversions, goals.target_cpa, tolerance)
    return signals


def compute_overview(accounts: Sequence[OverviewAccount], clients: Mapping[int, ClientGoals],
                     days: Mapping[tuple[int, date], StoredDay], today: date) -> Overview:
    """The overview's rows for a run on `today` (the job's day): accounts by client, a client
    row after each client's accounts."""
    window = month_window(today)
    rows: list[OverviewRow] = []
    client_pacing: dict[int, Pacing] = {}

    def sums(account_id: int) -> tuple[Figures, Figures, Figures]:
        yesterday, week, month = Figures(), Figures(), Figures()
        day = min(window.month_start, window.run_rate_start)
        while day <= window.through:
            stored = days.get((account_id, day))
            if stored is not None:
                figures = Figures.of(stored)
                if day == window.through:
                    yesterday.add(figures)
                if day >= window.run_rate_start:
                    week.add(figures)
                if day >= window.month_start:
                    month.add(figures)
            day += timedelta(days=1)
        return yesterday, week, month

    def group_key(account: OverviewAccount) -> tuple[bool, str, str]:
        goals = clients.get(account.client_id) if account.client_id is not None else None
        return (goals is None, goals.name.casefold() if goals else "", account.name.casefold())

    ordered = sorted(accounts, key=group_key)
    groups: dict[int | None, list[OverviewRow]] = {}
    for account in ordered:
        goals = clients.get(account.client_id) if account.client_id is not None else None
        yesterday, week, month = sums(account.client_account_id)
        row = OverviewRow("account", goals.name if goals else "", account.name, account.platform,
                          account.currency, yesterday, week, month, client_id=account.client_id,
                          client_account_id=account.client_account_id, goals=goals)
        row.signals = _signals(month, goals, account.currency)
        groups.setdefault(goals.client_id if goals else None, []).append(row)
    for client_id, members in groups.items():
        rows.extend(members)
        goals = clients.get(client_id) if client_id is not None else None
        if goals is None:
            continue
        paced = [member for member in members if member.currency == goals.currency]
        if not paced:  # none of its accounts here is in its currency: nothing to pace
            continue
        client_row = OverviewRow("client", goals.name, "", "", goals.currency, client_id=client_id,
                                 goals=goals)
        for member in paced:
            client_row.yesterday.add(member.yesterday)
            client_row.week.add(member.week)
            client_row.month.add(member.month)
        pacing = budget_pacing(client_row.month.cost, client_row.week.cost, goals.budget,
                               goals.tolerance, window)
        client_pacing[client_id] = pacing
        client_row.pacing = pacing
        client_row.signals = _signals(client_row.month, goals, goals.currency) | {
            "pacing": pacing.signal}
        for member in paced:
            member.pacing = pacing
            member.signals["pacing"] = pacing.signal
        rows.append(client_row)
    return Overview(window, rows, client_pacing)


def missed_targets(goals: ClientGoals, accounts: Iterable[OverviewAccount],
                   days: Mapping[tuple[int, date], StoredDay], through: date,
                   target_days: int) -> dict[str, tuple[Decimal | None, Decimal]]:
    """The client's targets missed on each of the `target_days` days through `through` (its
    accounts in its currency, day by day): metric → (the last day's value, the target).

    A day misses a target when its signal is amber or red (worse than the target); a day
    without spend (no signal) breaks the streak."""
    ids = [a.client_account_id for a in accounts
           if a.client_id == goals.client_id and a.currency == goals.currency]
    streak: dict[str, int] = {"cpa": 0, "roas": 0, "pno": 0}
    last: dict[str, Decimal | None] = {}
    for offset in range(target_days - 1, -1, -1):
        day = through - timedelta(days=offset)
        figures = Figures()
        for account_id in ids:
            stored = days.get((account_id, day))
            if stored is not None:
                figures.add(Figures.of(stored))
        signals = _signals(figures, goals, goals.currency)
        values = {"cpa": cpa(figures.cost, figures.conversions),
                  "roas": roas(figures.cost, figures.value),
                  "pno": pno(figures.cost, figures.value)}
        for metric in streak:
            if signals.get(metric) in (Signal.AMBER, Signal.RED):
                streak[metric] += 1
                last[metric] = values[metric]
    targets = {"cpa": goals.target_cpa, "roas": goals.target_roas, "pno": goals.target_pno}
    return {metric: (last.get(metric), targets[metric])  # type: ignore[misc]
            for metric, count in streak.items()
            if count == target_days and targets[metric] is not None}
