"""What the rules read from the statistics store: sums per account or campaign and period.

One query per level and distinct period, whatever the number of accounts and rules: the
database sums the days (money in micros, exact), Python only compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.alerts.model import Period
from ppc_robot.lib.models import AccountDay, CampaignDay, Client, ClientAccount

ZERO = Decimal(0)
CONVERSION_PLACES = Decimal("0.0001")
# (client account, campaign id or "" at the account level)
EntityKey = tuple[int, str]


@dataclass(frozen=True)
class Sums:
    """One entity's metrics summed over a period."""

    impressions: int = 0
    clicks: int = 0
    cost_micros: int = 0
    conversions: Decimal = ZERO
    value_micros: int = 0


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


def read_sums(session: Session, level: str, ids: Sequence[int], period: Period,
              ) -> tuple[dict[EntityKey, Sums], dict[EntityKey, str]]:
    """Each entity's sums over `period` (one query), and the campaigns' names."""
    table = CampaignDay if level == "campaign" else AccountDay
    sums = (func.sum(table.impressions), func.sum(table.clicks), func.sum(table.cost_micros),
            func.sum(table.conversions), func.sum(table.conversion_value_micros))
    if level == "campaign":
        keys = (CampaignDay.client_account_id, CampaignDay.campaign_id,
                func.max(CampaignDay.campaign_name))
    else:
        keys = (AccountDay.client_account_id,)
    statement = (select(*keys, *sums)
                 .where(table.client_account_id.in_(list(ids)),
                        table.day >= period.first, table.day <= period.last)
                 .group_by(*keys[:2]))
    found: dict[EntityKey, Sums] = {}
    names: dict[EntityKey, str] = {}
    for row in session.execute(statement):
        if level == "campaign":
            key: EntityKey = (row[0], row[1])
            names[key] = row[2]
            metrics = row[3:]
        else:
            key, metrics = (row[0], ""), row[1:]
        impressions, clicks, cost, conversions, value = metrics
        found[key] = Sums(int(impressions or 0), int(clicks or 0), int(cost or 0),
                          _conversions(conversions), int(value or 0))
    return found, names
