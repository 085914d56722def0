"""Failed logins per account, counted in the database so that every web process sees them."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.models import utcnow
from ppc_robot.lib.users import normalise_email
from ppc_robot.web.models import LoginFailure

security_log = logging.getLogger("ppc_robot.security")

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)


def account_key(email: str) -> str:
    """The key of an account: the hash of the address as typed, normalised (known or not)."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def failures(session: Session, email: str, *, now: datetime | None = None,
             window: timedelta = WINDOW) -> int:
    now = now or utcnow()
    stmt = select(func.count(LoginFailure.id)).where(
        LoginFailure.account_key == account_key(email), LoginFailure.created_at > now - window
    )
    return session.scalar(stmt) or 0


def is_locked(session: Session, email: str, *, limit: int = MAX_FAILURES,
              window: timedelta = WINDOW, now: datetime | None = None) -> bool:
    """Whether the account had `limit` failures within `window`: no password is checked then."""
    return failures(session, email, now=now, window=window) >= limit


def record_failure(session: Session, email: str, *, now: datetime | None = None) -> None:
    session.add(LoginFailure(account_key=account_key(email), created_at=now or utcnow()))
    session.flush()


def clear_failures(session: Session, email: str, *, window: timedelta = WINDOW) -> None:
    """Forget an account's failures after a good login, and drop rows older than any window."""
    session.execute(delete(LoginFailure).where(LoginFailure.account_key == account_key(email)))
    session.execute(delete(LoginFailure).where(LoginFailure.created_at < utcnow() - 4 * window))
