"""What the rules read from the statistics store: sums per account or campaign and period.

A few queries per level, whatever the number of accounts and rules: the rules' periods are cut
into disjoint runs of days, the database sums each run per entity (money in micros, exact),
and each period adds up its runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, func, select, type_coerce
from sqlalchemy.orm import Session

from ppc_robot.lib.alerts.model import Period
from ppc_robot.lib.models import AccountDay, CampaignDay, Client, ClientAccount

ZERO = Decimal(0)
ONE_DAY = timedelta(days=1)
CONVERSION_PLACES = Decimal("0.0001")
# (client account, campaign id or "" at the account level)
EntityKey = tuple[int, str]


class Sums:
    """One entity's metrics summed over a period; the metrics computed from them are kept
    (`cache`), since many rules read the same ones."""

    __slots__ = ("impressions", "clicks", "cost_micros", "conversions", "value_micros", "cache")

    def __init__(self, impressions: int = 0, clicks: int = 0, cost_micros: int = 0,
                 conversions: Decimal = ZERO, value_micros: int = 0) -> None:
        self.impressions = impressions
        self.clicks = clicks
        self.cost_micros = cost_micros
        self.conversions = conversions
        self.value_micros = value_micros
        self.cache: dict[str, Decimal | None] = {}

    def __repr__(self) -> str:
        return (f"Sums({self.impressions}, {self.clicks}, {self.cost_micros}, "
                f"{self.conversions}, {self.value_micros})")


@dataclass(frozen=True)
class Targets:
    """The client's targets as they apply to one account (a CPA target only in its currency)."""

    cpa: Decimal | None = None
    roas: Decimal | None = None
    pno: Decimal | None = None

    def of(self, metric: str) -> Decimal | None:
        return getattr(self, metric, None)


@dataclass(frozen=True)
class AlertAccount:
    client_account_id: int
    name: str
    currency: str
    client: str = ""
    targets: Targets = Targets()


def _conversions(total: object) -> Decimal:
    # SQLite sums NUMERIC as a float: its four decimals are the column's, so round to them.
    if total is None:
        return ZERO
    if isinstance(total, Decimal):
        return total
    return Decimal(repr(total)).quantize(CONVERSION_PLACES)


def read_accounts(session: Session, ids: Iterable[int]) -> list[AlertAccount]:
    """The accounts with their clients' targets, in one query."""
    rows = session.execute(
        select(ClientAccount.id, ClientAccount.name, ClientAccount.currency, Client.name,
               Client.currency, Client.target_cpa, Client.target_roas, Client.target_pno)
        .outerjoin(Client, Client.id == ClientAccount.client_id)
        .where(ClientAccount.id.in_(list(ids))))
    accounts = []
    for account_id, name, currency, client, client_currency, cpa, roas, pno in rows:
        targets = Targets(cpa if client_currency == currency else None, roas, pno)
        accounts.append(AlertAccount(account_id, name, currency, client or "", targets))
    return sorted(accounts, key=lambda a: (a.name.casefold(), a.client_account_id))


def segments(periods: Iterable[Period]) -> list[Period]:
    """The periods cut into disjoint runs of days, each inside every period it overlaps: each
    day is read once however many periods cover it (yesterday, the last 7 and the last 30
    days share their recent days)."""
    periods = set(periods)
    cuts = sorted({p.first for p in periods} | {p.last + ONE_DAY for p in periods})
    runs = [Period(start, end - ONE_DAY) for start, end in zip(cuts, cuts[1:], strict=False)]
    return [run for run in runs
            if any(p.first <= run.first and run.last <= p.last for p in periods)]


def read_periods(session: Session, level: str, ids: Sequence[int], periods: Iterable[Period],
                 ) -> tuple[dict[Period, dict[EntityKey, Sums]], dict[EntityKey, str]]:
    """Each entity's sums over each period, and the campaigns' names: one query per run of
    days (`segments`), whatever the number of accounts."""
    periods = set(periods)
    # Campaign names come from the runs that end a period (reading them costs as much as the
    # sums): a campaign only seen in the middle of a period is shown by its id.
    ends = {p.last for p in periods}
    by_run = {run: _read_run(session, level, ids, run, with_names=run.last in ends)
              for run in segments(periods)}
    names: dict[EntityKey, str] = {}
    for _, run_names in by_run.values():
        names.update(run_names)
    result: dict[Period, dict[EntityKey, Sums]] = {}
    for period in periods:
        inside = [found for run, (found, _) in by_run.items()
                  if period.first <= run.first and run.last <= period.last]
        if len(inside) == 1:
            result[period] = inside[0]
            continue
        totals: dict[EntityKey, list[Any]] = {}
        for found in inside:
            for key, sums in found.items():
                total = totals.get(key)
                if total is None:
                    totals[key] = [sums.impressions, sums.clicks, sums.cost_micros,
                                   sums.conversions, sums.value_micros]
                else:
                    total[0] += sums.impressions
                    total[1] += sums.clicks
                    total[2] += sums.cost_micros
                    total[3] += sums.conversions
                    total[4] += sums.value_micros
        result[period] = {key: Sums(*total) for key, total in totals.items()}
    return result, names


def _read_run(session: Session, level: str, ids: Sequence[int], period: Period, *,
              with_names: bool) -> tuple[dict[EntityKey, Sums], dict[EntityKey, str]]:
    """Each entity's sums over `period` (one query), and the campaigns' names if asked."""
    table = CampaignDay if level == "campaign" else AccountDay
    conversions: Any = func.sum(table.conversions)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite sums NUMERIC as a float: taken as it comes and rounded to the column's four
        # decimals once (`_conversions`), not converted through text by SQLAlchemy per row.
        conversions = type_coerce(conversions, Float)
    sums = (func.sum(table.impressions), func.sum(table.clicks), func.sum(table.cost_micros),
            conversions, func.sum(table.conversion_value_micros))
    keys: tuple[Any, ...]
    if level == "campaign":
        # Grouped by an expression, not the bare column: SQLite without statistics would walk
        # each account's every day in the primary key, in the GROUP BY's order, rather than
        # only the period's days in the (account, day) index: 1 s for one day of 500 accounts
        # against 70 ms.
        account = CampaignDay.client_account_id + 0
        keys = (account, CampaignDay.campaign_id)
        if with_names:
            keys += (func.max(CampaignDay.campaign_name),)
    else:
        keys = (AccountDay.client_account_id,)
    statement = (select(*keys, *sums)
                 .where(table.client_account_id.in_(list(ids)),
                        table.day >= period.first, table.day <= period.last)
                 .group_by(*keys[:2]))
    found: dict[EntityKey, Sums] = {}
    names: dict[EntityKey, str] = {}
    width = len(keys)
    for row in session.execute(statement):
        if level == "campaign":
            key: EntityKey = (row[0], row[1])
            if with_names:
                names[key] = row[2]
        else:
            key = (row[0], "")
        metrics = row[width:]
        impressions, clicks, cost, conversions, value = metrics
        found[key] = Sums(int(impressions or 0), int(clicks or 0), int(cost or 0),
                          _conversions(conversions), int(value or 0))
    return found, names
