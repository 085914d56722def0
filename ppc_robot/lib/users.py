"""Creating users and checking their passwords. Nothing here commits."""

from __future__ import annotations

import logging
from zoneinfo import available_timezones

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import User, utcnow
from ppc_robot.lib.models.users import EMAIL_MAX, new_session_token
from ppc_robot.lib.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

logger = logging.getLogger(__name__)
security_log = logging.getLogger("ppc_robot.security")


class UserError(PpcRobotError):
    """A user cannot be created or changed as asked; the message is for the user."""


def normalise_email(email: str) -> str:
    """The address as stored: trimmed, the domain lower-cased (and the local part too)."""
    return (email or "").strip().lower()


def is_time_zone(name: str) -> bool:
    """Whether zoneinfo knows `name` (browsers send their zone's IANA name)."""
    return name in available_timezones()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(
    session: Session,
    email: str,
    password: str,
    *,
    name: str = "",
    is_admin: bool = False,
    time_zone: str = "UTC",
) -> User:
    """Create a user with his root folder. Raises UserError or PasswordPolicyError."""
    email = normalise_email(email)
    if not email or "@" not in email or len(email) > EMAIL_MAX:
        raise UserError(N_("Enter a valid e-mail address."))
    if find_user_by_email(session, email) is not None:
        raise UserError(N_("An account with this e-mail address already exists."))
    if not is_time_zone(time_zone):
        raise UserError(N_("Choose a time zone from the list."))
    check_password_policy(password)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        is_admin=is_admin,
        time_zone=time_zone,
    )
    session.add(user)
    session.flush()
    root_folder(session, user)
    logger.info("user %s created (admin=%s)", user.id, is_admin)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None; unknown e-mails cost the same."""
    user = find_user_by_email(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        security_log.info("login failed for an account (known=%s)", user is not None)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    security_log.info("login succeeded for user %s", user.id)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session of the user (logout everywhere, password change, deactivation)."""
    user.session_token = new_session_token()


def user_by_session_token(session: Session, token: str) -> User | None:
    """The active user whose sessions carry `token`."""
    return session.scalar(
        select(User).where(User.session_token == token, User.is_active.is_(True))
    )
