"""What each finished run delivered: the client accounts and days its numbers covered.

A row per (run, client account), written by the report types that read the statistics store,
so the store's daily re-pull can tell which delivered reports a late change of numbers makes
stale (`lib/alerts/restatements.py`), and the job page can mark them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ppc_robot.lib.models.base import Base, UtcDateTime


class RunCoverage(Base):
    """One client account's days in one run's output, and when its numbers moved afterwards."""

    __tablename__ = "robot_run_coverage"
    __table_args__ = (
        Index("ix_robot_run_coverage_account_days", "client_account_id", "last_day"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("robot_job_runs.id", ondelete="CASCADE"), primary_key=True)
    client_account_id: Mapped[int] = mapped_column(
        ForeignKey("robot_client_accounts.id", ondelete="CASCADE",
                   name="fk_robot_run_coverage_account"), primary_key=True)
    # Repeated from the run, so the re-pull finds the job without joining its runs.
    job_id: Mapped[int] = mapped_column(ForeignKey("robot_jobs.id", ondelete="CASCADE"),
                                        index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    moved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"<RunCoverage run={self.run_id} account={self.client_account_id}>"
