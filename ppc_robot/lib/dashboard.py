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
viewer's date and the sort. Those are read on every page in two small statements; any write
that can change a figure (a refresh or backfill chunk moves its account's state in the same
transaction) changes them, and the table is computed again.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    inspect,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.models import (
    AccountDay,
    Client,
    ClientAccount,
    ClientAccountStatus,
    Folder,
    Job,
    ServiceAccount,
    StatsState,
    User,
    client_accounts_tags,
)
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
SPARKLINE_DAYS = 30
STALE_AFTER = timedelta(hours=36)  # a daily refresh missed by more than half a day
STALE_LISTED = 10
DEFAULT_TOLERANCE = Decimal(10)


@dataclass(frozen=True)
class DashboardSummary:
    root_folder_id: int
    folders: int
    jobs: int
    enabled_jobs: int
    service_accounts: int
    client_accounts: int


@functools.cache
def _summary_statement() -> Any:
    """The statement of `dashboard_summary` (bound `user_id`), built once."""
    user_id = bindparam("user_id", type_=Integer)

    def count(model: type, *where: object) -> Any:
        return (select(func.count()).select_from(model).where(model.owned_by(user_id), *where)
                .scalar_subquery())

    root = (select(Folder.id).where(Folder.user_id == user_id, Folder.parent_id.is_(None))
            .scalar_subquery())
    return select(root, count(Folder), count(Job), count(Job, Job.is_enabled.is_(True)),
                  count(ServiceAccount), count(ClientAccount))


def dashboard_summary(session: Session, user: User) -> DashboardSummary:
    """The root folder and counts of the user's things, in one statement (a subquery each)."""
    root_id, folders, jobs, enabled_jobs, service_accounts, client_accounts = (
        session.connection().execute(_summary_statement(), {"user_id": user.id}).one())
    if root_id is None:  # created on first use
        root_id = root_folder(session, user).id
        folders = (folders or 0) + 1
    return DashboardSummary(
        root_folder_id=root_id,
        folders=(folders or 0) - 1,
        jobs=jobs or 0,
        enabled_jobs=enabled_jobs or 0,
        service_accounts=service_accounts or 0,
        client_accounts=client_accounts or 0,
    )


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
        return self.client.name if self.client is not None else "Accounts in no client"


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
    def reason(self) -> str:
        if self.last_error:
            return self.last_error
        if self.refreshed_at is None:
            return "statistics are being collected"
        return "not refreshed for more than a day"


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


def _sorted(lines: list[PerformanceLine], sort: str) -> list[PerformanceLine]:
    descending = sort.startswith("-")
    key = SORTS[sort.lstrip("-")]
    if sort.lstrip("-") == "name":
        return sorted(lines, key=key, reverse=descending)
    lines = sorted(lines, key=SORTS["name"])  # ties stay in name order
    return sorted(lines, key=lambda line: _none_last(key(line), descending), reverse=descending)


def _sum_if(condition: ColumnElement[bool], column: Any) -> Any:
    total = func.coalesce(func.sum(case((condition, column), else_=0)), 0)
    # Conversions are Numeric: read back as they come (float on SQLite, Decimal on PostgreSQL)
    # and made Decimal once per row in figures_from_sums, not by a per-value result processor.
    return type_coerce(total, Float) if isinstance(column.type, Numeric) else total


def figures_from_sums(cost: Any, conversions: Any, value: Any) -> Figures:
    """Figures from summed micros and conversions as the database returns them."""
    return Figures(money_from_micros(int(cost or 0)), Decimal(str(conversions or 0)),
                   money_from_micros(int(value or 0)))


def _scope(user_id: int, tag_id: int | None) -> list[ColumnElement[bool]]:
    scope: list[ColumnElement[bool]] = [AccountDay.user_id == user_id]
    if tag_id is not None:
        scope.append(AccountDay.client_account_id.in_(
            select(client_accounts_tags.c.client_account_id)
            .where(client_accounts_tags.c.tag_id == tag_id)))
    return scope


def period_figures(session: Session, window: MonthWindow, group: Sequence[Any],
                   scope: Sequence[ColumnElement[bool]]) -> list[Any]:
    """One row per `group` (with the account's currency): month-to-date cost, and cost,
    conversions and value of yesterday and of the last 7 days, in one statement."""
    day = AccountDay.day
    in_month = day >= window.month_start
    in_week = day >= window.run_rate_start
    yesterday = day == window.through
    stmt = (
        select(*group, AccountDay.currency,
               _sum_if(in_month, AccountDay.cost_micros).label("month_cost"),
               _sum_if(in_week, AccountDay.cost_micros).label("week_cost"),
               _sum_if(in_week, AccountDay.conversions).label("week_conversions"),
               _sum_if(in_week, AccountDay.conversion_value_micros).label("week_value"),
               _sum_if(yesterday, AccountDay.cost_micros).label("day_cost"),
               _sum_if(yesterday, AccountDay.conversions).label("day_conversions"),
               _sum_if(yesterday, AccountDay.conversion_value_micros).label("day_value"))
        .join(ClientAccount, ClientAccount.id == AccountDay.client_account_id)
        .where(*scope, day >= min(window.month_start, window.run_rate_start),
               day <= window.through)
        .group_by(*group, AccountDay.currency)
    )
    return list(session.execute(stmt))


def daily_figures(session: Session, group: Sequence[Any], scope: Sequence[ColumnElement[bool]],
                  first: date, last: date) -> dict[tuple[Any, ...], dict[date, Figures]]:
    """Cost, conversions and value per day from `first` to `last` per `group` and currency, in
    one statement."""
    stmt = (
        select(*group, AccountDay.currency, AccountDay.day, func.sum(AccountDay.cost_micros),
               func.sum(AccountDay.conversions), func.sum(AccountDay.conversion_value_micros))
        .join(ClientAccount, ClientAccount.id == AccountDay.client_account_id)
        .where(*scope, AccountDay.day >= first, AccountDay.day <= last)
        .group_by(*group, AccountDay.currency, AccountDay.day)
    )
    series: dict[tuple[Any, ...], dict[date, Figures]] = {}
    for *keys, day, cost, conversions, value in session.execute(stmt):
        series.setdefault(tuple(keys), {})[day] = figures_from_sums(cost, conversions, value)
    return series


def daily_cost(session: Session, group: Sequence[Any], scope: Sequence[ColumnElement[bool]],
               first: date, last: date) -> dict[tuple[Any, ...], dict[date, int]]:
    """Cost in micros per day from `first` to `last` per `group` and currency (one statement;
    integers only, as a few hundred sparklines need nothing else)."""
    stmt = (
        select(*group, AccountDay.currency, AccountDay.day, func.sum(AccountDay.cost_micros))
        .join(ClientAccount, ClientAccount.id == AccountDay.client_account_id)
        .where(*scope, AccountDay.day >= first, AccountDay.day <= last)
        .group_by(*group, AccountDay.currency, AccountDay.day)
    )
    series: dict[tuple[Any, ...], dict[date, int]] = {}
    # Through the connection: plain rows, without the ORM's per-row bookkeeping (thousands here).
    for *keys, day, cost in session.connection().execute(stmt):
        series.setdefault(tuple(keys), {})[day] = int(cost or 0)
    return series


def store_freshness(session: Session, user_id: int, now: datetime,
                    account_ids: Sequence[int] | None = None) -> Freshness:
    """The oldest last refresh of the user's active accounts, and the accounts that are stale:
    failing, never refreshed yet, or not refreshed for `STALE_AFTER` (two statements)."""
    where: list[ColumnElement[bool]] = [ClientAccount.user_id == user_id,
                                        ClientAccount.status == ClientAccountStatus.ACTIVE]
    if account_ids is not None:
        where.append(ClientAccount.id.in_(account_ids))
    stale_if = or_(StatsState.refreshed_at.is_(None), StatsState.last_error.is_not(None),
                   StatsState.refreshed_at < now - STALE_AFTER)
    joined = and_(StatsState.client_account_id == ClientAccount.id)
    up_to_date = and_(StatsState.refreshed_at.is_not(None), StatsState.last_error.is_(None),
                      StatsState.refreshed_at >= now - STALE_AFTER)
    accounts, refreshed, oldest, stale_count, oldest_up_to_date = session.execute(
        select(func.count(ClientAccount.id), func.count(StatsState.refreshed_at),
               func.min(StatsState.refreshed_at), func.count(case((stale_if, 1))),
               func.min(case((up_to_date, StatsState.refreshed_at))))
        .select_from(ClientAccount).outerjoin(StatsState, joined).where(*where)).one()
    stale = [StaleAccount(*row) for row in session.execute(
        select(ClientAccount.id, ClientAccount.name, StatsState.refreshed_at,
               StatsState.last_error)
        .select_from(ClientAccount).outerjoin(StatsState, joined).where(*where, stale_if)
        .order_by(StatsState.last_error.is_(None), ClientAccount.name).limit(STALE_LISTED))]
    return Freshness(accounts or 0, refreshed or 0, oldest, stale, stale_count or 0,
                     oldest_up_to_date + STALE_AFTER if oldest_up_to_date is not None else None)


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


class TableCache:
    """Computed performance tables, the newest `size` (user, date, tag, sort) kept, each with
    the inputs it was computed from (thread-safe; one per process)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Hashable, PerformanceTable, datetime]] = (
            OrderedDict())
        self._lock = threading.Lock()

    def get(self, key: Hashable, inputs: Hashable) -> tuple[PerformanceTable, datetime] | None:
        """The table computed from `inputs` (and when its freshness was read), if kept."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] != inputs:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1], entry[2]

    def put(self, key: Hashable, inputs: Hashable, table: PerformanceTable,
            read_at: datetime) -> None:
        with self._lock:
            self._entries[key] = (inputs, table, read_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _row_text(columns: Sequence[Any]) -> Any:
    """One row's values as one unambiguous text: "|" between values, "~" for NULL, free text
    with its length in front."""
    parts: list[Any] = []
    for column in columns:
        value = func.coalesce(cast(column, String), "~")
        if isinstance(column.type, String) and (column.type.length or 0) > 3:
            value = func.coalesce(cast(func.length(column), String) + ":" + column, "~")
        parts.append(value)
    text = parts[0]
    for part in parts[1:]:
        text = text + "|" + part
    return text


@functools.cache
def _inputs_statement(tagged: bool, dialect: str) -> Any:
    """The statement of `table_inputs`, built once per dialect (bound `user_id` and `tag_id`):
    the clients' rows and the accounts' rows, each folded into one text by the database."""
    user_id = bindparam("user_id", type_=Integer)
    client_columns = [Client.id, *(c for c in Client.__table__.columns
                                   if c.key not in ("id", "user_id", "created_at"))]
    tag: list[Any] = [exists().where(
        client_accounts_tags.c.client_account_id == ClientAccount.id,
        client_accounts_tags.c.tag_id == bindparam("tag_id", type_=Integer))
        .correlate(ClientAccount)] if tagged else []
    account_columns = [ClientAccount.id, ClientAccount.client_id, ClientAccount.currency,
                       ClientAccount.status, ClientAccount.updated_at, StatsState.refreshed_at,
                       StatsState.refreshed_through, StatsState.backfill_done_from,
                       StatsState.last_error_at, *tag]
    clients = select(_row_text(client_columns).label("row"), Client.id.label("id")).where(
        Client.user_id == user_id)
    accounts = (select(_row_text(account_columns).label("row"), ClientAccount.id.label("id"))
                .select_from(ClientAccount)
                .outerjoin(StatsState, StatsState.client_account_id == ClientAccount.id)
                .where(ClientAccount.user_id == user_id))

    def folded(rows: Any) -> Any:
        if dialect == "postgresql":
            rows = rows.subquery()
            return select(func.string_agg(rows.c.row, aggregate_order_by(
                literal(";"), rows.c.id))).scalar_subquery()
        # SQLite concatenates in the order its subquery hands the rows (only a cache miss
        # if it ever did not).
        rows = rows.order_by("id").subquery()
        return select(func.group_concat(rows.c.row, ";")).scalar_subquery()

    return select(folded(clients), folded(accounts))


def table_inputs(session: Session, user_id: int, tag_id: int | None) -> Hashable:
    """Everything the table's figures depend on besides the date and the sort, exactly, as
    text (one statement, one row): the goals of the user's clients; per account its client,
    currency, status and last change, its store state (last refresh, backfill progress, last
    failure) and whether it carries the tag."""
    statement = _inputs_statement(tag_id is not None, session.get_bind().dialect.name)
    return tuple(session.connection().execute(
        statement, {"user_id": user_id, "tag_id": tag_id}).one())


def _detached_copy(client: Client) -> Client:
    """A transient copy of `client`'s columns: a cached line outlives the session it was read
    in, and must not change with (or expire with) the session's instance."""
    return Client(**{attr.key: getattr(client, attr.key)
                     for attr in inspect(Client).column_attrs})


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
    scope = _scope(user.id, tag_id)
    group = [ClientAccount.client_id]
    rows = {(row.client_id, row.currency): row
            for row in period_figures(session, window, group, scope)}
    days = [window.through - timedelta(days=n) for n in range(SPARKLINE_DAYS - 1, -1, -1)]
    series = daily_cost(session, group, scope, days[0], days[-1])
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.owned_by(user.id)))}
    if copies:
        clients = {client_id: _detached_copy(c) for client_id, c in clients.items()}
    keys = set(rows) | set(series)
    if tag_id is None:
        # A client with no statistics yet still gets its line, in its own currency.
        with_data = {client_id for client_id, _ in keys}
        keys |= {(cid, c.currency) for cid, c in clients.items() if cid not in with_data}
    lines = [performance_line(clients.get(client_id) if client_id is not None else None,
                              currency, rows.get((client_id, currency)),
                              series.get((client_id, currency), {}), days, window)
             for client_id, currency in keys if client_id is None or client_id in clients]
    lines = _sorted(lines, chosen)
    return PerformanceTable(window, lines, currency_totals(lines),
                            store_freshness(session, user.id, now), days, chosen)
