"""The statistics store: daily metrics per client account and per campaign, and its refresh state.

Money is kept exactly, in micros of the account's currency (1 CZK = 1,000,000 micros), as the
platforms report it; conversions may be fractional (attribution models split them). One row per
(account, day) and per (account, campaign, day): every write is an upsert, so a repeated, a
concurrent or a killed refresh leaves one row with the latest numbers. The account rows are the
sums of its campaign rows for the day, written in the same transaction, so pages that need only
account totals never read the campaign rows.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ppc_robot.lib.models.base import Base, UtcDateTime

CAMPAIGN_ID_MAX = 64
CAMPAIGN_NAME_MAX = 255
CONVERSIONS = Numeric(18, 4)
CAMPAIGN_DAYS_BY_ACCOUNT_DAY = "ix_robot_stats_campaign_days_account_day"


def _account_fk(table: str) -> ForeignKey:
    # Named here: the convention's name would pass PostgreSQL's 63 characters.
    return ForeignKey("robot_client_accounts.id", ondelete="CASCADE", name=f"fk_{table}_account")


class AccountDay(Base):
    """One client account's totals for one day in its own time zone."""

    __tablename__ = "robot_stats_account_days"
    __table_args__ = (Index("ix_robot_stats_account_days_user_day", "user_id", "day"),)

    client_account_id: Mapped[int] = mapped_column(
        _account_fk("robot_stats_account_days"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # The owner, repeated from the account, so the dashboard scopes by one indexed column.
    user_id: Mapped[int] = mapped_column(ForeignKey("robot_users.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    conversions: Mapped[Decimal] = mapped_column(CONVERSIONS, default=Decimal(0))
    conversion_value_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"<AccountDay {self.client_account_id} {self.day} {self.cost_micros}>"


class CampaignDay(Base):
    """One campaign's metrics for one day of its account."""

    __tablename__ = "robot_stats_campaign_days"
    # Anomaly detection reads a few weekdays of every campaign of an account; alert rules sum
    # every campaign of the accounts over a run of days: both by account and day.
    __table_args__ = (Index(CAMPAIGN_DAYS_BY_ACCOUNT_DAY, "client_account_id", "day"),)

    client_account_id: Mapped[int] = mapped_column(
        _account_fk("robot_stats_campaign_days"), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(CAMPAIGN_ID_MAX), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    campaign_name: Mapped[str] = mapped_column(String(CAMPAIGN_NAME_MAX))
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    conversions: Mapped[Decimal] = mapped_column(CONVERSIONS, default=Decimal(0))
    conversion_value_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"<CampaignDay {self.client_account_id} {self.campaign_id!r} {self.day}>"


class StatsState(Base):
    """Where the store stands for one client account: its daily refresh and its backfill.

    The backfill walks back from `backfill_until` towards `backfill_from` in date ranges; what
    it has stored is kept in `backfill_done_from`, so a backfill interrupted by a restart
    resumes where it stopped.
    """

    __tablename__ = "robot_stats_states"

    client_account_id: Mapped[int] = mapped_column(
        _account_fk("robot_stats_states"), primary_key=True)
    next_refresh_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refreshed_through: Mapped[date | None] = mapped_column(Date)
    backfill_from: Mapped[date | None] = mapped_column(Date)
    backfill_until: Mapped[date | None] = mapped_column(Date)
    backfill_done_from: Mapped[date | None] = mapped_column(Date)
    # When the backfill's next chunk may be taken: a claim's lease, or the wait after a failure.
    backfill_next_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # Failures in a row of the daily refresh and of the backfill: each waits twice as long.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    backfill_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"<StatsState {self.client_account_id} through {self.refreshed_through}>"
