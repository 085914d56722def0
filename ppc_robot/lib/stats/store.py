"""Writing the store: a pulled date range of one account, upserted in one transaction.

Every write is INSERT … ON CONFLICT DO UPDATE through the dialect's own insert (SQLite and
PostgreSQL share the statement), so a repeated or concurrent refresh leaves one row per
(account, campaign, day) and per (account, day) with the latest numbers. Campaigns that
vanished from a re-pulled day are deleted for that day, and the account rows are the sums
of the campaign rows, zero for a day without any, written in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, delete, not_, select
from sqlalchemy.orm import Session

from ppc_robot.lib.alerts.restatements import WATCHED, compare_days, note_moved_numbers
from ppc_robot.lib.models.stats import CAMPAIGN_ID_MAX, CAMPAIGN_NAME_MAX, AccountDay, CampaignDay
from ppc_robot.lib.platforms import ReportRow
from ppc_robot.lib.stats.settings import StatsSettings

MICROS = 1_000_000
METRICS = ("impressions", "clicks", "cost_micros", "conversions", "conversion_value_micros")


@dataclass(frozen=True)
class AccountRef:
    """What the store needs of a client account, copied out of any session."""

    client_account_id: int
    user_id: int
    currency: str


@dataclass
class _Totals:
    name: str
    impressions: int = 0
    clicks: int = 0
    cost_micros: int = 0
    conversions: Decimal = Decimal(0)
    conversion_value_micros: int = 0

    def add(self, row: ReportRow) -> None:
        self.impressions += row.impressions
        self.clicks += row.clicks
        self.cost_micros += to_micros(row.cost)
        self.conversions += row.conversions
        self.conversion_value_micros += to_micros(row.conversion_value)


def to_micros(amount: Decimal) -> int:
    """Money in micros; platform amounts have at most six decimals, so this is exact."""
    return int((amount * MICROS).to_integral_value())


def campaign_key(row: ReportRow) -> str:
    """The campaign's id on its platform, or (an adapter without ids) its name, hashed when long."""
    if row.campaign_id:
        return row.campaign_id[:CAMPAIGN_ID_MAX]
    name = row.campaign or ""
    if len(name) <= CAMPAIGN_ID_MAX:
        return name
    return "name:" + hashlib.sha256(name.encode()).hexdigest()[:CAMPAIGN_ID_MAX - 5]


def collect(rows: Iterable[ReportRow], first: date, last: date) -> dict[tuple[str, date], _Totals]:
    """Campaign × day totals of platform rows (several rows of one key are summed)."""
    totals: dict[tuple[str, date], _Totals] = {}
    for row in rows:
        if row.date is None or not first <= row.date <= last:
            continue
        key = (campaign_key(row), row.date)
        entry = totals.get(key)
        if entry is None:
            entry = totals[key] = _Totals((row.campaign or key[0])[:CAMPAIGN_NAME_MAX])
        entry.add(row)
    return totals


_UPSERTS: dict[tuple[str, str], Any] = {}  # built once per dialect and table: statements are immutable


def dialect_insert(session: Session, table: Table) -> Any:
    """INSERT of the session's dialect, which knows ON CONFLICT (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def upsert(session: Session, table: Table, rows: Sequence[dict[str, Any]],
           keys: Sequence[str]) -> None:
    """Insert `rows`, or update the existing row of the same key with their values.

    One statement executed for many rows: compiled once and cached, unlike a multi-VALUES
    insert, whose compilation per call would cost more than the writing.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    statement = _UPSERTS.get((dialect, table.name))
    if statement is None:
        insert = dialect_insert(session, table)
        changed = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys}
        statement = insert.on_conflict_do_update(index_elements=list(keys), set_=changed)
        _UPSERTS[(dialect, table.name)] = statement
    session.execute(statement, list(rows))


def store_days(session: Session, account: AccountRef, first: date, last: date,
               rows: Iterable[ReportRow], fetched_at: datetime, *,
               moved_threshold: Decimal | None = None) -> int:
    """Replace the account's store for `first`..`last` by the platform's rows; flushes, never
    commits. Returns how many campaign-days were written.

    Days stored before whose cost, conversions or conversion value moved by more than
    `moved_threshold` % (PPC_ROBOT_STATS_MOVED_PERCENT when None) are handed to
    `note_moved_numbers`, which tells the jobs that delivered them.
    """
    totals = collect(rows, first, last)
    table = AccountDay.__table__
    old = {day: values for day, *values in session.execute(
        select(table.c.day, *(table.c[c] for c in WATCHED)).where(
            table.c.client_account_id == account.client_account_id,
            table.c.day >= first, table.c.day <= last))}
    _delete_vanished(session, account.client_account_id, first, last, totals)
    campaign_rows = [
        {"client_account_id": account.client_account_id, "campaign_id": campaign_id, "day": day,
         "campaign_name": entry.name, "fetched_at": fetched_at,
         **{metric: getattr(entry, metric) for metric in METRICS}}
        for (campaign_id, day), entry in sorted(totals.items(), key=lambda item: item[0])]
    upsert(session, CampaignDay.__table__, campaign_rows,  # type: ignore[arg-type]
           ("client_account_id", "campaign_id", "day"))
    by_day: dict[date, _Totals] = {}
    for (_campaign, day), entry in totals.items():
        day_total = by_day.setdefault(day, _Totals(""))
        for metric in METRICS:
            setattr(day_total, metric, getattr(day_total, metric) + getattr(entry, metric))
    account_rows = []
    day = first
    while day <= last:  # a day without campaigns is stored as zero: fetched, nothing spent
        entry = by_day.get(day) or _Totals("")
        account_rows.append({
            "client_account_id": account.client_account_id, "day": day,
            "user_id": account.user_id, "currency": account.currency, "fetched_at": fetched_at,
            **{metric: getattr(entry, metric) for metric in METRICS}})
        day += timedelta(days=1)
    upsert(session, AccountDay.__table__, account_rows,  # type: ignore[arg-type]
           ("client_account_id", "day"))
    if old:
        new = {row["day"]: [row[c] for c in WATCHED] for row in account_rows}
        threshold = (StatsSettings.from_config().moved_percent if moved_threshold is None
                     else moved_threshold)
        note_moved_numbers(session, account.client_account_id, account.currency,
                           compare_days(old, new, threshold), fetched_at)
    session.flush()
    return len(campaign_rows)


def _delete_vanished(session: Session, client_account_id: int, first: date, last: date,
                     totals: dict[tuple[str, date], _Totals]) -> None:
    """Delete the campaign rows of re-pulled days that the platform no longer lists; days
    sharing one set of campaigns (the usual case) go in one statement."""
    campaigns_of_day: dict[date, set[str]] = {}
    for campaign_id, day in totals:
        campaigns_of_day.setdefault(day, set()).add(campaign_id)
    days_of_set: dict[frozenset[str], list[date]] = {}
    day = first
    while day <= last:
        days_of_set.setdefault(frozenset(campaigns_of_day.get(day, ())), []).append(day)
        day += timedelta(days=1)
    table = CampaignDay.__table__
    for campaigns, days in days_of_set.items():
        condition = and_(table.c.client_account_id == client_account_id, table.c.day.in_(days))
        if campaigns:
            condition = and_(condition, not_(table.c.campaign_id.in_(sorted(campaigns))))
        session.execute(delete(table).where(condition))
