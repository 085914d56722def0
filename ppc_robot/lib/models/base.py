"""Declarative base, the UTC timestamp type, string enums and the ownership mixins."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Enum, ForeignKey, Index, Integer, MetaData, func, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC; aware datetimes in and out, naive ones refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given where UTC is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def unique_name_index(table: str, *scope: str, where: str | None = None) -> Index:
    """The unique index on lower(name) within `scope` columns: names unique regardless of case.

    `where` limits it to some rows (a partial index, the same on SQLite and PostgreSQL).
    """
    condition = {"sqlite_where": text(where), "postgresql_where": text(where)} if where else {}
    return Index(f"uq_{table}_lower_name", *scope, func.lower(text("name")), unique=True,
                 **condition)


def str_enum(enum_class: type[enum.StrEnum], length: int = 32) -> Enum:
    """A column type storing a StrEnum by its value as a plain string."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Every model of the project, shared and web-only."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Owned:
    """A row that belongs to a user; `owned_by` is the SQL condition true for his rows."""

    if TYPE_CHECKING:
        id: Mapped[int]

    @classmethod
    def owned_by(cls, user_id: int) -> ColumnElement[bool]:
        raise NotImplementedError


class OwnedByUser(Owned):
    """A row with its owner's id in a `user_id` column."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)

    @declared_attr
    def user_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr takes the class
        return mapped_column(ForeignKey("robot_users.id", ondelete="CASCADE"), index=True)

    @classmethod
    def owned_by(cls, user_id: int) -> ColumnElement[bool]:
        return cls.user_id == user_id
