"""The statistics store read for the dashboard and the client page: sums per period and
per day, grouped in SQL, and the store's freshness."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    and_,
    case,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from ppc_robot.lib.dashboard.lines import Freshness, StaleAccount
from ppc_robot.lib.models import (
    AccountDay,
    ClientAccount,
    ClientAccountStatus,
    StatsState,
    client_accounts_tags,
)
from ppc_robot.lib.pacing import (
    Figures,
    MonthWindow,
    figures_from_sums,
)

STALE_AFTER = timedelta(hours=36)  # a daily refresh missed by more than half a day
STALE_LISTED = 10


def _sum_if(condition: ColumnElement[bool], column: Any) -> Any:
    total = func.coalesce(func.sum(case((condition, column), else_=0)), 0)
    # Conversions are Numeric: read back as they come (float on SQLite, Decimal on PostgreSQL)
    # and made Decimal once per row in figures_from_sums, not by a per-value result processor.
    return type_coerce(total, Float) if isinstance(column.type, Numeric) else total


def store_scope(user_id: int, tag_id: int | None) -> list[ColumnElement[bool]]:
    """The conditions picking the user's account days (with `tag_id`: of accounts so tagged)."""
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
