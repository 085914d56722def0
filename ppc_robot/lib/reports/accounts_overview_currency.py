"""The accounts overview in one reporting currency: each account's stored days converted at the
ECB rate of their own day (a weekend or holiday at the last rate published before it), the
clients' budgets and CPA targets at the rate of the last day of the period.

With every account in the reporting currency, a client's budget paces all of its accounts.
Each account row keeps its own currency and the month's effective rate (converted month-to-date
spend / the spend in its own currency; the last day's rate when it spent nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from ppc_robot.lib.exchange_rates import CONVERTED_LOG, ExchangeRateError, RateTable, rates_for_run
from ppc_robot.lib.reports.accounts_overview_table import (
    ClientGoals,
    Overview,
    OverviewAccount,
    StoredDay,
)
from ppc_robot.lib.reports.shared import ReportRun
from ppc_robot.lib.runner import ErrorClass, RunFailed


@dataclass
class Converted:
    accounts: list[OverviewAccount]
    clients: dict[int, ClientGoals]
    days: dict[tuple[int, date], StoredDay]
    rates: RateTable
    through: date
    own: dict[int, str]  # account id → its own currency
    spend: dict[int, tuple[int, int]]  # account id → month micros in its currency, converted

    def annotate(self, overview: Overview) -> None:
        """Each account row's own currency and effective rate."""
        for row in overview.rows:
            if row.kind != "account" or row.client_account_id is None:
                continue
            currency = self.own[row.client_account_id]
            original, converted = self.spend.get(row.client_account_id, (0, 0))
            row.original_currency = currency
            row.rate = (Decimal(converted) / Decimal(original) if original
                        else self.rates.factor(self.through, currency))


def _micros(micros: int, factor: Decimal) -> int:
    return int((Decimal(micros) * factor).to_integral_value(ROUND_HALF_EVEN))


def in_reporting_currency(run: ReportRun, accounts: list[OverviewAccount],
                          clients: dict[int, ClientGoals], days: dict[tuple[int, date], StoredDay],
                          first: date, through: date, target: str) -> Converted:
    """Everything the overview reads, in `target`. Raises RunFailed naming a missing rate."""
    span = [first + timedelta(days=n) for n in range((through - first).days + 1)]
    currencies = {a.currency for a in accounts} | {c.currency for c in clients.values()}
    try:
        rates = rates_for_run(run.context.session_factory, run.context.settings.app_config,
                              currencies, span, target)
    except ExchangeRateError as exc:
        raise RunFailed(str(exc), ErrorClass.DATA) from exc
    own = {a.client_account_id: a.currency for a in accounts}
    month_start = through.replace(day=1)
    converted_days: dict[tuple[int, date], StoredDay] = {}
    spend: dict[int, tuple[int, int]] = {}
    for (account_id, day), stored in days.items():
        factor = rates.factor(day, own[account_id])
        cost = _micros(stored.cost_micros, factor)
        converted_days[(account_id, day)] = StoredDay(cost, stored.conversions,
                                                      _micros(stored.value_micros, factor))
        if day >= month_start:
            original, total = spend.get(account_id, (0, 0))
            spend[account_id] = (original + stored.cost_micros, total + cost)

    def money(amount: Decimal | None, currency: str) -> Decimal | None:
        return None if amount is None else amount * rates.factor(through, currency)

    converted_clients = {
        client_id: replace(goals, currency=target, budget=money(goals.budget, goals.currency),
                           target_cpa=money(goals.target_cpa, goals.currency))
        for client_id, goals in clients.items()}
    run.log(CONVERTED_LOG % {"currency": target})
    return Converted([replace(a, currency=target) for a in accounts], converted_clients,
                     converted_days, rates, through, own, spend)
