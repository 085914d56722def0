"""Finished outputs e-mailed to a job's recipients: one delivery per run and recipient."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ppc_robot.lib.models.base import Base, OwnedByUser, UtcDateTime, str_enum, utcnow
from ppc_robot.lib.models.notifications import DeliveryStatus

if TYPE_CHECKING:
    from ppc_robot.lib.models.jobs import JobRun

EMAIL_MAX = 254  # RFC 5321's longest forward path, less the angle brackets
RECIPIENTS_MAX = 20


class OutputDelivery(Base, OwnedByUser):
    """The mail of one run's output to one recipient: the file attached, or a download link.

    The link's token is never stored: only its SHA-256, so a leaked database opens no file.
    """

    __tablename__ = "robot_output_deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "recipient"),
        UniqueConstraint("link_token_hash"),
        Index("ix_robot_output_deliveries_due", "status", "next_attempt_at"),
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("robot_job_runs.id", ondelete="CASCADE"),
                                        index=True)
    recipient: Mapped[str] = mapped_column(String(EMAIL_MAX))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    is_attached: Mapped[bool] = mapped_column(Boolean, default=False)
    link_token_hash: Mapped[str | None] = mapped_column(String(64))
    link_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    link_revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    run: Mapped[JobRun] = relationship()

    @property
    def has_link(self) -> bool:
        return self.link_token_hash is not None

    def link_works(self, now: datetime) -> bool:
        """True while the mailed download link opens the file: neither withdrawn nor expired."""
        return (self.has_link and self.link_revoked_at is None
                and self.link_expires_at is not None and self.link_expires_at > now)

    def __repr__(self) -> str:
        return f"<OutputDelivery {self.id} run={self.run_id} {self.status}>"
