"""Rows of the statistics store written directly, as the refresh would leave them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ppc_robot.lib.models import AccountDay, CampaignDay, ClientAccount, StatsState, utcnow

MICROS = 1_000_000


def micros(amount: Decimal | int | str) -> int:
    return int(Decimal(amount) * MICROS)


def make_account_day(session: Session, account: ClientAccount, day: date, *,
                     cost: Decimal | int | str = 0, conversions: Decimal | int | str = 0,
                     value: Decimal | int | str = 0, **overrides: Any) -> AccountDay:
    """One account's day; `cost` and `value` in units of the account's currency."""
    options: dict[str, Any] = {
        "client_account_id": account.id, "day": day, "user_id": account.user_id,
        "currency": account.currency, "impressions": 1000, "clicks": 50,
        "cost_micros": micros(cost), "conversions": Decimal(conversions),
        "conversion_value_micros": micros(value), "fetched_at": utcnow()}
    options.update(overrides)
    row = AccountDay(**options)
    session.add(row)
    session.flush()
    return row


def make_campaign_day(session: Session, account: ClientAccount, campaign_id: str, day: date, *,
                      name: str | None = None, cost: Decimal | int | str = 0,
                      conversions: Decimal | int | str = 0, value: Decimal | int | str = 0,
                      **overrides: Any) -> CampaignDay:
    options: dict[str, Any] = {
        "client_account_id": account.id, "campaign_id": campaign_id, "day": day,
        "campaign_name": name or f"Campaign {campaign_id}", "impressions": 1000, "clicks": 50,
        "cost_micros": micros(cost), "conversions": Decimal(conversions),
        "conversion_value_micros": micros(value), "fetched_at": utcnow()}
    options.update(overrides)
    row = CampaignDay(**options)
    session.add(row)
    session.flush()
    return row


def make_stats_state(session: Session, account: ClientAccount, *,
                     refreshed_at: datetime | None = None, last_error: str | None = None,
                     **overrides: Any) -> StatsState:
    state = StatsState(client_account_id=account.id, refreshed_at=refreshed_at,
                       last_error=last_error, **overrides)
    session.add(state)
    session.flush()
    return state
