"""The dashboard's performance table, computed from the store or taken from the cache."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from ppc_robot.lib.dashboard.cache import TableCache, detached_copy, table_inputs
from ppc_robot.lib.dashboard.lines import (
    PerformanceTable,
    currency_totals,
    performance_line,
    sort_key,
    sorted_lines,
)
from ppc_robot.lib.dashboard.queries import daily_cost, period_figures, store_freshness, store_scope
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    User,
)
from ppc_robot.lib.pacing import (
    month_window,
)

SPARKLINE_DAYS = 30


def performance_table(session: Session, user: User, today: date, now: datetime, *,
                      tag_id: int | None = None, sort: str | None = None,
                      cache: TableCache | None = None) -> PerformanceTable:
    """One line per client and currency (and one for accounts in no client): month to date
    against the budget, yesterday and the last 7 days against the targets, 30 days of cost.

    `today` is the viewer's calendar date; the figures run through the day before. With
    `tag_id`, only accounts carrying that client-account tag count, and clients without such
    accounts are left out. Five statements, whatever the number of clients and accounts.

    With `cache`: one statement while the table's inputs (`table_inputs`) stand still and
    no account has become stale with time since (`Freshness.holds_until`; three when one has),
    six when they changed.
    """
    chosen = sort_key(sort)
    if cache is None:
        return _performance_table(session, user, today, now, tag_id, chosen, copies=False)
    key = (user.id, today, tag_id, chosen)
    inputs = table_inputs(session, user.id, tag_id)
    cached = cache.get(key, inputs)
    if cached is None:
        cached = _performance_table(session, user, today, now, tag_id, chosen, copies=True)
        cache.put(key, inputs, cached, now)
        return cached
    table, read_at = cached
    freshness = table.freshness
    holds = read_at <= now and (freshness.holds_until is None or now < freshness.holds_until)
    if not holds:
        freshness = store_freshness(session, user.id, now)
        cache.put(key, inputs, replace(table, freshness=freshness), now)
    return replace(table, freshness=freshness)


def _performance_table(session: Session, user: User, today: date, now: datetime,
                       tag_id: int | None, chosen: str, *, copies: bool) -> PerformanceTable:
    window = month_window(today)
    scope = store_scope(user.id, tag_id)
    group = [ClientAccount.client_id]
    rows = {(row.client_id, row.currency): row
            for row in period_figures(session, window, group, scope)}
    days = [window.through - timedelta(days=n) for n in range(SPARKLINE_DAYS - 1, -1, -1)]
    series = daily_cost(session, group, scope, days[0], days[-1])
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.owned_by(user.id)))}
    if copies:
        clients = {client_id: detached_copy(c) for client_id, c in clients.items()}
    keys = set(rows) | set(series)
    if tag_id is None:
        # A client with no statistics yet still gets its line, in its own currency.
        with_data = {client_id for client_id, _ in keys}
        keys |= {(cid, c.currency) for cid, c in clients.items() if cid not in with_data}
    lines = [performance_line(clients.get(client_id) if client_id is not None else None,
                              currency, rows.get((client_id, currency)),
                              series.get((client_id, currency), {}), days, window)
             for client_id, currency in keys if client_id is None or client_id in clients]
    lines = sorted_lines(lines, chosen)
    return PerformanceTable(window, lines, currency_totals(lines),
                            store_freshness(session, user.id, now), days, chosen)
