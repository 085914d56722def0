"""Web-only tables (web_*): plans, subscriptions and invites."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from ppc_robot.lib.models import Base, Owned, User, UtcDateTime, utcnow
from ppc_robot.lib.models.base import str_enum, unique_name_index


class SubscriptionStatus(enum.StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"


class Plan(Base):
    """What a subscription may do: its limits (None means unlimited)."""

    __tablename__ = "web_plans"
    __table_args__ = (unique_name_index("web_plans"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    max_jobs: Mapped[int | None] = mapped_column(Integer)
    max_client_accounts: Mapped[int | None] = mapped_column(Integer)
    min_schedule_interval_minutes: Mapped[int] = mapped_column(Integer, default=60)
    allows_slack: Mapped[bool] = mapped_column(Boolean, default=True)
    max_invites: Mapped[int] = mapped_column(Integer, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Plan {self.id} {self.name!r}>"


class Subscription(Base, Owned):
    """A user's plan and its state; one per user."""

    __tablename__ = "web_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("robot_users.id", ondelete="CASCADE"), unique=True
    )
    plan_id: Mapped[int] = mapped_column(ForeignKey("web_plans.id", ondelete="RESTRICT"), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus), default=SubscriptionStatus.TRIALING
    )
    period_start: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    period_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    plan: Mapped[Plan] = relationship()
    user: Mapped[User] = relationship()

    @classmethod
    def owned_by(cls, user_id: int) -> ColumnElement[bool]:
        return cls.user_id == user_id


class Invite(Base, Owned):
    """An invitation of an e-mail address; the token is kept only as its SHA-256."""

    __tablename__ = "web_invites"
    __table_args__ = (
        Index("ix_web_invites_email", "email"),
        # One open (neither accepted nor revoked) invite per address; addresses are stored
        # lower-cased.
        Index("uq_web_invites_open_email", "email", unique=True,
              sqlite_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
              postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_users.id", ondelete="SET NULL"), index=True
    )
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("web_plans.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_users.id", ondelete="SET NULL")
    )

    @classmethod
    def owned_by(cls, user_id: int) -> ColumnElement[bool]:
        return cls.invited_by_id == user_id


class LoginFailure(Base):
    """One failed login for an account key (SHA-256 of the typed address, known or not)."""

    __tablename__ = "web_login_failures"
    __table_args__ = (Index("ix_web_login_failures_account", "account_key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGE = "email_change"


class AccountToken(Base, Owned):
    """A single-use e-mailed link (password reset, new address); only its SHA-256 is kept."""

    __tablename__ = "web_account_tokens"
    __table_args__ = (Index("ix_web_account_tokens_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("robot_users.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    new_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @classmethod
    def owned_by(cls, user_id: int) -> ColumnElement[bool]:
        return cls.user_id == user_id
