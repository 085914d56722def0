"""What the dashboard shows: counters, and each client's spend, pacing and targets.

The performance table is read from the statistics store (`AccountDay`) in a fixed number of
statements whatever the number of clients and accounts: one aggregate over the month and the
last 7 days (conditional sums, grouped by client and currency), one for the 30-day cost series,
one for the clients, two for the store's freshness. Money is never added across currencies: a
client whose accounts report in two currencies gets a line per currency, and the totals are
per currency.

With a `TableCache`, the computed table is kept per user and reused while its inputs stand
still: the user's clients (their goals), their accounts (client, currency, status, changes)
with the store's refresh state (daily refresh, backfill, errors), the tag's accounts, the
viewer's date and the sort. Those are read on every page in one small statement; any write
that can change a figure (a refresh or backfill chunk moves its account's state in the same
transaction) changes them, and the table is computed again.

| module | what it holds |
| --- | --- |
| summary.py | the counters and the root folder, in one statement |
| lines.py | the table as data: lines, figures, signals, totals per currency, sorting |
| queries.py | the store read in SQL: period and daily sums, freshness |
| cache.py | the per-process cache of computed tables and the inputs keying them |
| table.py | `performance_table`: computed, or taken from the cache |
"""

from ppc_robot.lib.dashboard.cache import TableCache, table_inputs
from ppc_robot.lib.dashboard.lines import (
    CurrencyTotal,
    Freshness,
    PerformanceLine,
    PerformanceTable,
    Signals,
    StaleAccount,
    currency_totals,
    performance_line,
    sort_key,
    target_signals,
)
from ppc_robot.lib.dashboard.queries import (
    daily_cost,
    daily_figures,
    period_figures,
    store_freshness,
)
from ppc_robot.lib.dashboard.summary import DashboardSummary, dashboard_summary
from ppc_robot.lib.dashboard.table import performance_table
from ppc_robot.lib.pacing import Figures, figures_from_sums

__all__ = [
    "CurrencyTotal",
    "DashboardSummary",
    "Figures",
    "Freshness",
    "PerformanceLine",
    "PerformanceTable",
    "Signals",
    "StaleAccount",
    "TableCache",
    "currency_totals",
    "daily_cost",
    "daily_figures",
    "dashboard_summary",
    "figures_from_sums",
    "performance_line",
    "performance_table",
    "period_figures",
    "sort_key",
    "store_freshness",
    "table_inputs",
    "target_signals",
]
