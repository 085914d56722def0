"""Notifications (the original's design), channel settings, deliveries and snoozes."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from ppc_robot.lib.models.accounts import Platform
from ppc_robot.lib.models.base import Base, Owned, OwnedByUser, UtcDateTime, str_enum, utcnow


class NotificationLevel(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    SUGGESTION = "suggestion"


class Channel(enum.StrEnum):
    INTERFACE = "interface"
    EMAIL = "email"
    SLACK = "slack"


class EmailMode(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    GIVEN_UP = "given_up"
    SKIPPED = "skipped"


class Notification(Base, OwnedByUser):
    """One message to one user about one problem; (category, code) names its type."""

    __tablename__ = "robot_notifications"
    __table_args__ = (
        Index("ix_robot_notifications_user_read", "user_id", "read_at"),
        Index("ix_robot_notifications_user_order", "user_id", "score", "created_at"),
        # While a problem is open it is counted on its one row, never raised again.
        Index(
            "uq_robot_notifications_open_dedup",
            "user_id",
            "dedup_key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    service_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_service_accounts.id", ondelete="SET NULL"), index=True
    )
    client_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_client_accounts.id", ondelete="SET NULL"), index=True
    )
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_jobs.id", ondelete="SET NULL"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_job_runs.id", ondelete="SET NULL"), index=True
    )
    level: Mapped[NotificationLevel] = mapped_column(str_enum(NotificationLevel))
    platform: Mapped[Platform | None] = mapped_column(str_enum(Platform))
    category: Mapped[int] = mapped_column(Integer)
    code: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer, default=0)
    message_template: Mapped[str] = mapped_column(Text)
    message_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    details: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    entity_id: Mapped[str | None] = mapped_column(String(255))
    dedup_key: Mapped[str] = mapped_column(String(255))
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def message(self) -> str:
        """The message built from its template and parameters."""
        # Imported here: message_values reads the catalogs, whose module reads the models.
        from ppc_robot.lib.message_values import value_text

        params = {key: value_text(value, "en") for key, value in self.message_params.items()}
        try:
            return self.message_template.format(**params)
        except (KeyError, IndexError, ValueError):
            return self.message_template

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.category}/{self.code} {self.level}>"


class NotificationChannelSetting(Base, OwnedByUser):
    """A user's settings for one external channel (e-mail or Slack)."""

    __tablename__ = "robot_notification_channels"
    __table_args__ = (UniqueConstraint("user_id", "channel"),)

    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    min_level: Mapped[NotificationLevel] = mapped_column(
        str_enum(NotificationLevel), default=NotificationLevel.ERROR
    )
    # Category numbers the user wants on this channel; empty means all of them.
    categories: Mapped[list[int]] = mapped_column(JSON, default=list)
    email_mode: Mapped[EmailMode] = mapped_column(
        str_enum(EmailMode), default=EmailMode.IMMEDIATE
    )
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)
    last_digest_on: Mapped[str | None] = mapped_column(String(10))
    # Fernet token of the Slack webhook URL; shown back only masked.
    target_encrypted: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class NotificationDelivery(Base, Owned):
    """The delivery of one notification through one channel: at most one per pair."""

    __tablename__ = "robot_notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        Index("ix_robot_notification_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("robot_notifications.id", ondelete="CASCADE")
    )
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @classmethod
    def owned_by(cls, user_id: int) -> ColumnElement[bool]:
        from sqlalchemy import select

        mine = select(Notification.id).where(Notification.user_id == user_id)
        return cls.notification_id.in_(mine)


class NotificationSnooze(Base, OwnedByUser):
    """The user silenced one notification type for an account or a job until a time."""

    __tablename__ = "robot_notification_snoozes"
    __table_args__ = (Index("ix_robot_notification_snoozes_lookup", "user_id", "category", "code"),)

    category: Mapped[int] = mapped_column(Integer)
    code: Mapped[int] = mapped_column(Integer)
    client_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_client_accounts.id", ondelete="CASCADE")
    )
    job_id: Mapped[int | None] = mapped_column(ForeignKey("robot_jobs.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
