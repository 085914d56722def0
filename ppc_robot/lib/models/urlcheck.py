"""The URL checker's progress per run: the URLs collected once, each URL's result written once.

A run first collects its accounts' landing pages and stores them (with the run's row in
robot_url_check_runs, in one transaction); it then checks the URLs not yet checked, writing
each result as it comes. A second attempt of the same run (its worker died) finds the list and
the results already there, and checks only the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ppc_robot.lib.models.base import Base, UtcDateTime, utcnow

URL_STATUS_MAX = 16


def _run_fk(table: str) -> ForeignKey:
    return ForeignKey("robot_job_runs.id", ondelete="CASCADE", name=f"fk_{table}_run")


class UrlCheckRun(Base):
    """A run's collected list: when it was collected, how many URLs, the accounts left out."""

    __tablename__ = "robot_url_check_runs"

    run_id: Mapped[int] = mapped_column(_run_fk("robot_url_check_runs"), primary_key=True)
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    url_count: Mapped[int] = mapped_column(Integer, default=0)
    # [{"client_account_id", "name", "reason"}] of the accounts the collection could not read.
    missing: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class UrlCheck(Base):
    """One distinct URL of a run, where it is used, and (once checked) what the check found."""

    __tablename__ = "robot_url_checks"
    __table_args__ = (
        UniqueConstraint("run_id", "url_hash"),
        Index("ix_robot_url_checks_run_position", "run_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(_run_fk("robot_url_checks"))
    position: Mapped[int] = mapped_column(Integer)
    # sha256 of the normalised URL: URLs are too long to be keys themselves.
    url_hash: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    # [{"client_account_id", "account", "entity_type", "entity_id", "campaign", "ad_group", "paused"}]
    uses: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str | None] = mapped_column(String(URL_STATUS_MAX))
    http_status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(Text)
    chain: Mapped[list[str] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    response_ms: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<UrlCheck {self.id} run {self.run_id} {self.status}>"
