"""A client's statistics in detail: its month against the budget, 90 days of daily figures, its
accounts and its campaigns, from the statistics store.

Like the dashboard, a fixed number of statements whatever the number of accounts and campaigns,
and figures per currency, never added across currencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.dashboard import (
    Figures,
    Freshness,
    PerformanceLine,
    Signals,
    daily_figures,
    figures_from_sums,
    performance_line,
    period_figures,
    store_freshness,
    target_signals,
)
from ppc_robot.lib.models import AccountDay, CampaignDay, Client, ClientAccount
from ppc_robot.lib.pacing import MonthWindow, month_window

CHART_DAYS = 90
CAMPAIGN_DAYS = 30
CAMPAIGNS_SHOWN = 25


@dataclass(frozen=True)
class DailySeries:
    """One currency's figures per day over the chart's days (zeros where the store has none)."""

    days: list[date]
    figures: list[Figures]
    daily_budget: list[Decimal | None]  # the monthly budget spread over each day's month

    @property
    def labels(self) -> list[str]:
        return [day.isoformat() for day in self.days]

    @property
    def cost(self) -> list[Decimal]:
        return [f.cost for f in self.figures]

    @property
    def conversions(self) -> list[Decimal]:
        return [f.conversions for f in self.figures]

    @property
    def cpa(self) -> list[Decimal | None]:
        return [f.cpa for f in self.figures]

    @property
    def pno(self) -> list[Decimal | None]:
        return [f.pno for f in self.figures]


@dataclass(frozen=True)
class MonthSeries:
    """The month of the last settled day: spend to date against the pro-rated budget."""

    labels: list[str]
    spend_to_date: list[Decimal | None]  # None after the last settled day
    pro_rated_budget: list[Decimal] | None


@dataclass(frozen=True)
class CurrencyDetail:
    line: PerformanceLine
    daily: DailySeries
    month: MonthSeries

    @property
    def currency(self) -> str:
        return self.line.currency


@dataclass(frozen=True)
class AccountFigures:
    client_account: ClientAccount
    month_spend: Decimal
    yesterday: Figures
    last_7_days: Figures
    last_7_days_signals: Signals
    has_data: bool


@dataclass(frozen=True)
class CampaignFigures:
    client_account: ClientAccount
    campaign_id: str
    name: str
    figures: Figures
    signals: Signals


@dataclass(frozen=True)
class ClientPerformance:
    window: MonthWindow
    currencies: list[CurrencyDetail]
    accounts: list[AccountFigures]
    campaigns: list[CampaignFigures]
    campaign_count: int
    campaign_days: tuple[date, date]
    freshness: Freshness

    @property
    def has_data(self) -> bool:
        return any(detail.line.has_data for detail in self.currencies)


def _month_series(window: MonthWindow, daily: dict[date, Figures],
                  budget: Decimal | None) -> MonthSeries:
    days = [window.month_start + timedelta(days=n) for n in range(window.days_in_month)]
    running, spend = Decimal(0), []
    for day in days:
        if day > window.through:
            spend.append(None)
            continue
        running += daily[day].cost if day in daily else Decimal(0)
        spend.append(running)
    pro_rated = ([budget * (n + 1) / window.days_in_month for n in range(window.days_in_month)]
                 if budget else None)
    return MonthSeries([day.isoformat() for day in days], spend, pro_rated)


def _daily_budget(day: date, budget: Decimal | None) -> Decimal | None:
    if not budget:
        return None
    return budget / month_window(day + timedelta(days=1)).days_in_month


def client_performance(session: Session, client: Client, accounts: Sequence[ClientAccount],
                       today: date, now: datetime, *,
                       campaigns_shown: int = CAMPAIGNS_SHOWN) -> ClientPerformance:
    """The client's figures through the day before `today` (the viewer's date).

    `accounts` are the client's accounts as the page lists them (names, platforms). Five
    statements: per-account periods, per-currency days, campaigns, and the store's freshness.
    """
    window = month_window(today)
    by_id = {account.id: account for account in accounts}
    scope: list[ColumnElement[bool]] = [AccountDay.user_id == client.user_id,
                                        ClientAccount.client_id == client.id]
    account_rows = {row.id: row for row in period_figures(session, window, [ClientAccount.id],
                                                           scope)}
    first = window.through - timedelta(days=CHART_DAYS - 1)
    daily = daily_figures(session, [], scope, min(first, window.month_start), window.through)

    totals: dict[str, SimpleNamespace] = {}
    for row in account_rows.values():
        total = totals.setdefault(row.currency, SimpleNamespace(
            month_cost=0, week_cost=0, week_conversions=Decimal(0), week_value=0, day_cost=0,
            day_conversions=Decimal(0), day_value=0))
        for name in vars(total):
            value = getattr(row, name) or 0
            # Conversions come back as floats (see dashboard._sum_if): exact again by their text.
            setattr(total, name, getattr(total, name)
                    + (Decimal(str(value)) if name.endswith("conversions") else int(value)))
    currencies = sorted(set(totals) | {key[0] for key in daily} or {client.currency})
    chart_days = [first + timedelta(days=n) for n in range(CHART_DAYS)]
    details = []
    for currency in currencies:
        per_day = daily.get((currency,), {})
        costs = {day: int(f.cost * 1_000_000) for day, f in per_day.items()}
        line = performance_line(client, currency, totals.get(currency), costs, chart_days, window)
        budget = line.pacing.budget
        details.append(CurrencyDetail(
            line=line,
            daily=DailySeries(chart_days, [per_day.get(day, Figures()) for day in chart_days],
                              [_daily_budget(day, budget) for day in chart_days]),
            month=_month_series(window, per_day, budget)))

    account_figures = []
    for account in accounts:
        row = account_rows.get(account.id)
        week = (figures_from_sums(row.week_cost, row.week_conversions, row.week_value)
                if row is not None else Figures())
        account_figures.append(AccountFigures(
            client_account=account,
            month_spend=figures_from_sums(row.month_cost, 0, 0).cost if row is not None else Decimal(0),
            yesterday=(figures_from_sums(row.day_cost, row.day_conversions, row.day_value)
                       if row is not None else Figures()),
            last_7_days=week,
            last_7_days_signals=target_signals(
                week, client, same_currency=account.currency == client.currency),
            has_data=row is not None))

    campaigns, campaign_count = _top_campaigns(session, client, by_id, window, campaigns_shown)
    return ClientPerformance(
        window=window, currencies=details, accounts=account_figures, campaigns=campaigns,
        campaign_count=campaign_count,
        campaign_days=(window.through - timedelta(days=CAMPAIGN_DAYS - 1), window.through),
        freshness=store_freshness(session, client.user_id, now, account_ids=list(by_id)))


def _top_campaigns(session: Session, client: Client, accounts: dict[int, ClientAccount],
                   window: MonthWindow, limit: int) -> tuple[list[CampaignFigures], int]:
    """The client's campaigns of the last 30 days by cost, the first `limit` of them, and how
    many there are (a window count in the same statement)."""
    cost = func.sum(CampaignDay.cost_micros)
    stmt = (
        select(CampaignDay.client_account_id, CampaignDay.campaign_id,
               func.max(CampaignDay.campaign_name), cost, func.sum(CampaignDay.conversions),
               func.sum(CampaignDay.conversion_value_micros), func.count().over())
        .where(CampaignDay.client_account_id.in_(
                   select(ClientAccount.id).where(ClientAccount.user_id == client.user_id,
                                                  ClientAccount.client_id == client.id)),
               CampaignDay.day >= window.through - timedelta(days=CAMPAIGN_DAYS - 1),
               CampaignDay.day <= window.through)
        .group_by(CampaignDay.client_account_id, CampaignDay.campaign_id)
        .order_by(cost.desc(), CampaignDay.client_account_id, CampaignDay.campaign_id)
        .limit(limit)
    )
    campaigns, count = [], 0
    for account_id, campaign_id, name, cost_micros, conversions, value, total in session.execute(
            stmt):
        count = total
        account = accounts.get(account_id)
        if account is None:  # moved out of the client between the two reads
            continue
        figures = figures_from_sums(cost_micros, conversions, value)
        campaigns.append(CampaignFigures(
            account, campaign_id, name, figures,
            target_signals(figures, client, same_currency=account.currency == client.currency)))
    return campaigns, count
