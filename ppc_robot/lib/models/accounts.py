"""Platform logins (service accounts), the client accounts under them, and clients."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ppc_robot.lib.models.base import (
    Base,
    OwnedByUser,
    UtcDateTime,
    str_enum,
    unique_name_index,
    utcnow,
)
from ppc_robot.lib.models.tags import client_accounts_tags

if TYPE_CHECKING:
    from ppc_robot.lib.models.tags import ClientAccountTag

ACCOUNT_NAME_MAX = 200
EXTERNAL_ID_MAX = 64
MONEY = Numeric(14, 2)
RATIO = Numeric(10, 4)


class Platform(enum.StrEnum):
    SANDBOX = "sandbox"
    GOOGLE_ADS = "google_ads"
    SKLIK = "sklik"
    MICROSOFT = "microsoft"

    @property
    def label(self) -> str:
        return {
            "sandbox": "Sandbox",
            "google_ads": "Google Ads",
            "sklik": "Sklik",
            "microsoft": "Microsoft Advertising",
        }[self.value]


class ServiceAccountStatus(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    RATE_LIMITED = "rate_limited"
    UNLINKED = "unlinked"


class ClientAccountStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class ServiceAccount(Base, OwnedByUser):
    """A user's management login to one platform; only a key to its client accounts."""

    __tablename__ = "robot_service_accounts"
    __table_args__ = (UniqueConstraint("user_id", "platform", "external_id"),)

    platform: Mapped[Platform] = mapped_column(str_enum(Platform))
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_MAX))
    name: Mapped[str] = mapped_column(String(ACCOUNT_NAME_MAX))
    # Fernet token of the credentials' JSON (refresh token, Sklik token, and the last OAuth
    # access token with its expiry, reused while valid); never shown back.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ServiceAccountStatus] = mapped_column(
        str_enum(ServiceAccountStatus), default=ServiceAccountStatus.VALID
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    client_accounts: Mapped[list[ClientAccount]] = relationship(
        back_populates="service_account", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<ServiceAccount {self.id} {self.platform} {self.external_id!r}>"


class Client(Base, OwnedByUser):
    """One customer or website: client accounts across platforms and their goals."""

    __tablename__ = "robot_clients"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        unique_name_index("robot_clients", "user_id"),
    )

    name: Mapped[str] = mapped_column(String(ACCOUNT_NAME_MAX))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    monthly_budget: Mapped[Decimal | None] = mapped_column(MONEY)
    target_cpa: Mapped[Decimal | None] = mapped_column(MONEY)
    target_roas: Mapped[Decimal | None] = mapped_column(RATIO)
    target_pno: Mapped[Decimal | None] = mapped_column(RATIO)
    # How far month-to-date spend may stray from the pro-rated budget, in per cent, before
    # pacing turns amber/red and a pacing notification is raised.
    pacing_tolerance: Mapped[Decimal] = mapped_column(
        Numeric(5, 2), default=Decimal(10), server_default=text("10"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    client_accounts: Mapped[list[ClientAccount]] = relationship(
        back_populates="client", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.name!r}>"


class ClientAccount(Base, OwnedByUser):
    """An account holding campaigns; the reports read its metrics."""

    __tablename__ = "robot_client_accounts"
    __table_args__ = (
        UniqueConstraint("service_account_id", "external_id"),
        Index("ix_robot_client_accounts_user_status", "user_id", "status"),
    )

    # The owner is repeated from the service account so every list scopes by one column.
    service_account_id: Mapped[int] = mapped_column(
        ForeignKey("robot_service_accounts.id", ondelete="CASCADE")
    )
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("robot_clients.id", ondelete="SET NULL"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_MAX))
    name: Mapped[str] = mapped_column(String(ACCOUNT_NAME_MAX))
    currency: Mapped[str] = mapped_column(String(3))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[ClientAccountStatus] = mapped_column(
        str_enum(ClientAccountStatus), default=ClientAccountStatus.ACTIVE
    )
    # What the adapter needs to reach the account, from the last sync (Google's manager to
    # log in through, Microsoft's parent customer), so a run need not walk the hierarchy.
    platform_extra: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'"))
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    service_account: Mapped[ServiceAccount] = relationship(back_populates="client_accounts")
    client: Mapped[Client | None] = relationship(back_populates="client_accounts")
    tags: Mapped[list[ClientAccountTag]] = relationship(
        secondary=client_accounts_tags, back_populates="client_accounts"
    )

    def __repr__(self) -> str:
        return f"<ClientAccount {self.id} {self.external_id!r} {self.name!r}>"
