"""Labels: tags for jobs and, separately, tags for client accounts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ppc_robot.lib.models.base import Base, OwnedByUser, UtcDateTime, unique_name_index, utcnow

if TYPE_CHECKING:
    from ppc_robot.lib.models.accounts import ClientAccount
    from ppc_robot.lib.models.jobs import Job

TAG_NAME_MAX = 64
DEFAULT_TAG_COLOUR = "#6c757d"

jobs_tags = Table(
    "robot_jobs_tags",
    Base.metadata,
    Column("job_id", ForeignKey("robot_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("robot_tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

client_accounts_tags = Table(
    "robot_client_accounts_tags",
    Base.metadata,
    Column(
        "client_account_id",
        ForeignKey("robot_client_accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "tag_id",
        ForeignKey("robot_client_account_tags.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Tag(Base, OwnedByUser):
    """A user's label for jobs, shown as a coloured badge."""

    __tablename__ = "robot_tags"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        unique_name_index("robot_tags", "user_id"),
    )

    name: Mapped[str] = mapped_column(String(TAG_NAME_MAX))
    colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_TAG_COLOUR)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    jobs: Mapped[list[Job]] = relationship(secondary=jobs_tags, back_populates="tags")

    def __repr__(self) -> str:
        return f"<Tag {self.id} {self.name!r}>"


class ClientAccountTag(Base, OwnedByUser):
    """A user's label for client accounts (e.g. "e-shop", "lead gen", "key account")."""

    __tablename__ = "robot_client_account_tags"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        unique_name_index("robot_client_account_tags", "user_id"),
    )

    name: Mapped[str] = mapped_column(String(TAG_NAME_MAX))
    colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_TAG_COLOUR)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    client_accounts: Mapped[list[ClientAccount]] = relationship(
        secondary=client_accounts_tags, back_populates="tags"
    )

    def __repr__(self) -> str:
        return f"<ClientAccountTag {self.id} {self.name!r}>"
