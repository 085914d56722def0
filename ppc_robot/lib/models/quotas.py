"""API call counters per login and period, shared by every process that calls the platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ppc_robot.lib.models.base import Base, UtcDateTime


class PlatformQuota(Base):
    """Calls made through one login in the current period ("minute" or "day")."""

    __tablename__ = "robot_platform_quotas"
    __table_args__ = (UniqueConstraint("service_account_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_account_id: Mapped[int] = mapped_column(
        ForeignKey("robot_service_accounts.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    used: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<PlatformQuota {self.service_account_id} {self.period} {self.used}>"
