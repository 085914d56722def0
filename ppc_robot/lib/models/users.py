"""People who log in."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from ppc_robot.lib.models.base import Base, Owned, UtcDateTime, utcnow

EMAIL_MAX = 254
NAME_MAX = 100
TIME_ZONE_MAX = 64
LOCALE_MAX = 8
# The interface languages; a user without a choice gets the browser's best match.
LOCALES = ("en", "cs")


def new_session_token() -> str:
    """A fresh random identity for the user's sessions (ends all old ones when replaced)."""
    return secrets.token_urlsafe(32)


class User(Base, Owned):
    """A person with a login; owns folders, jobs, accounts and notifications."""

    __tablename__ = "robot_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    time_zone: Mapped[str] = mapped_column(String(TIME_ZONE_MAX), default="UTC")
    locale: Mapped[str | None] = mapped_column(String(LOCALE_MAX))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Flask-Login identifies the session by this token, not by the id, so replacing it
    # (password change, logout, deactivation) ends every session that carried the old one.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    email_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @classmethod
    def owned_by(cls, user_id: int) -> ColumnElement[bool]:
        return cls.id == user_id

    # Flask-Login's protocol, written out so that lib needs no Flask import.
    @property
    def is_authenticated(self) -> bool:
        return self.is_active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email!r}>"
