"""The European Central Bank's daily euro reference rates, as the worker's housekeeping fetched them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ppc_robot.lib.models.base import Base, UtcDateTime, utcnow


class ExchangeRate(Base):
    """Units of `currency` one euro buys on `day` (the ECB's reference rate, published ~16:00 CET)."""

    __tablename__ = "robot_exchange_rates"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ExchangeRate {self.day} EUR/{self.currency} {self.rate}>"
