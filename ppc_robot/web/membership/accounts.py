"""Password reset, e-mail change, password change and profile. Nothing here commits."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import User, utcnow
from ppc_robot.lib.models.users import EMAIL_MAX, LOCALES
from ppc_robot.lib.passwords import check_password_policy, hash_password, verify_password
from ppc_robot.lib.users import end_sessions, find_user_by_email, normalise_email
from ppc_robot.web.membership.tokens import InvalidLinkError, hash_token, new_token
from ppc_robot.web.models import AccountToken, TokenPurpose

security_log = logging.getLogger("ppc_robot.security")

RESET_TTL = timedelta(minutes=60)
EMAIL_CHANGE_TTL = timedelta(hours=24)
RESETS_PER_HOUR = 5
# A user asks for his address's confirmation again at most this often (the per-address limit
# "confirm" of ratelimits.py caps it across accounts).
CONFIRMATION_COOLDOWN = timedelta(minutes=5)


class AccountError(PpcRobotError):
    """A change to the account is refused; the message is for the user."""


def time_zones() -> list[str]:
    return sorted(available_timezones())


def check_time_zone(name: str) -> str:
    if name not in available_timezones():
        raise AccountError(N_("Choose a time zone from the list."))
    return name


def _issue(session: Session, user: User, purpose: TokenPurpose, ttl: timedelta,
           new_email: str | None = None, now: datetime | None = None) -> str:
    """A new token of `purpose`; any older unused one of the same purpose stops working."""
    now = now or utcnow()
    session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose,
               AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    raw, token_hash = new_token()
    session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=token_hash,
                             new_email=new_email, created_at=now, expires_at=now + ttl))
    session.flush()
    return raw


def _consume(session: Session, raw: str, purpose: TokenPurpose,
             now: datetime | None = None) -> AccountToken:
    """Use a token once. Raises InvalidLinkError for an unknown, used or expired one."""
    now = now or utcnow()
    try:
        token = _valid_token(session, raw, purpose, now)
    except InvalidLinkError:
        security_log.info("invalid %s link used", purpose)
        raise
    claimed = session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InvalidLinkError()
    session.refresh(token)
    return token


def request_password_reset(session: Session, email: str, *, ttl: timedelta = RESET_TTL,
                           per_hour: int = RESETS_PER_HOUR) -> tuple[User, str] | None:
    """The user and a reset token to mail, or None (unknown, inactive, or too many this hour).

    The caller answers the same either way, so the page tells nothing about the address.
    """
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        return None
    recent = session.scalar(select(func.count(AccountToken.id)).where(
        AccountToken.user_id == user.id, AccountToken.purpose == TokenPurpose.PASSWORD_RESET,
        AccountToken.created_at > utcnow() - timedelta(hours=1)))
    if (recent or 0) >= per_hour:
        security_log.info("password reset refused for user %s: too many this hour", user.id)
        return None
    security_log.info("password reset requested for user %s", user.id)
    return user, _issue(session, user, TokenPurpose.PASSWORD_RESET, ttl)


def _valid_token(session: Session, raw: str, purpose: TokenPurpose,
                 now: datetime | None = None) -> AccountToken:
    """The unused, unexpired token of `purpose` (left unused). Raises InvalidLinkError."""
    now = now or utcnow()
    token = session.scalar(select(AccountToken).where(
        AccountToken.token_hash == hash_token(raw), AccountToken.purpose == purpose))
    if token is None or token.used_at is not None or token.expires_at <= now:
        raise InvalidLinkError()
    return token


def check_reset_token(session: Session, raw: str, now: datetime | None = None) -> User:
    """The active user of a valid, unused reset token (the token stays unused)."""
    token = _valid_token(session, raw, TokenPurpose.PASSWORD_RESET, now)
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise InvalidLinkError()
    return user


def check_email_token(session: Session, raw: str) -> str:
    """The address a valid, unused confirmation token would switch to."""
    return _valid_token(session, raw, TokenPurpose.EMAIL_CHANGE).new_email or ""


def reset_password(session: Session, raw: str, password: str) -> User:
    """Set a new password through a reset link; every session and other link ends."""
    check_password_policy(password)
    token = _consume(session, raw, TokenPurpose.PASSWORD_RESET)
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise InvalidLinkError()
    _set_password(session, user, password)
    security_log.info("password reset for user %s", user.id)
    return user


def _set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    end_sessions(user)
    session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()


def change_password(session: Session, user: User, current: str, new: str) -> User:
    """Change the password when `current` is right; other sessions end (caller logs in again)."""
    if not verify_password(user.password_hash, current):
        raise AccountError(N_("The current password is not right."))
    check_password_policy(new)
    _set_password(session, user, new)
    security_log.info("password changed by user %s", user.id)
    return user


def request_email_change(session: Session, user: User, password: str, new_email: str,
                         *, ttl: timedelta = EMAIL_CHANGE_TTL) -> str:
    """A token to mail to the new address; the address changes only once it is confirmed."""
    if not verify_password(user.password_hash, password):
        raise AccountError(N_("The current password is not right."))
    new_email = normalise_email(new_email)
    if not new_email or "@" not in new_email or len(new_email) > EMAIL_MAX:
        raise AccountError(N_("Enter a valid e-mail address."))
    if new_email == user.email:
        raise AccountError(N_("This is your address already."))
    if find_user_by_email(session, new_email) is not None:
        raise AccountError(N_("Another account uses this address."))
    return _issue(session, user, TokenPurpose.EMAIL_CHANGE, ttl, new_email=new_email)


def request_email_verification(session: Session, user: User) -> str:
    """A token confirming the user's current address (open sign-up)."""
    return _issue(session, user, TokenPurpose.EMAIL_CHANGE, EMAIL_CHANGE_TTL, new_email=user.email)


def resend_email_verification(session: Session, user: User, *,
                              now: datetime | None = None) -> str:
    """A new confirmation token for the user's current, unverified address.

    Raises AccountError when the address is confirmed already, or when the last confirmation
    went out less than CONFIRMATION_COOLDOWN ago. The older link stops working.
    """
    now = now or utcnow()
    if user.email_verified_at is not None:
        raise AccountError(f"{user.email} is already confirmed.")
    last = session.scalar(
        select(func.max(AccountToken.created_at)).where(
            AccountToken.user_id == user.id, AccountToken.purpose == TokenPurpose.EMAIL_CHANGE,
            AccountToken.new_email == user.email))
    if last is not None and last.replace(tzinfo=UTC) > now - CONFIRMATION_COOLDOWN:
        minutes = int(CONFIRMATION_COOLDOWN.total_seconds() // 60)
        raise AccountError(f"A confirmation went to {user.email} a moment ago; wait {minutes} "
                           "minutes before asking again, and check the spam folder.")
    security_log.info("user %s asked for the confirmation of his address again", user.id)
    return _issue(session, user, TokenPurpose.EMAIL_CHANGE, EMAIL_CHANGE_TTL,
                  new_email=user.email, now=now)


def confirm_email_change(session: Session, raw: str) -> User:
    """Switch to the confirmed address. Raises InvalidLinkError, or AccountError on a clash."""
    token = _consume(session, raw, TokenPurpose.EMAIL_CHANGE)
    user = session.get(User, token.user_id)
    if user is None or token.new_email is None:
        raise InvalidLinkError()
    holder = find_user_by_email(session, token.new_email)
    if holder is not None and holder.id != user.id:
        raise AccountError(N_("Another account uses this address now."))
    user.email = token.new_email
    user.email_verified_at = utcnow()
    session.flush()
    security_log.info("user %s confirmed a new e-mail address", user.id)
    return user


def update_profile(session: Session, user: User, *, name: str, time_zone: str,
                   locale: str | None = None) -> User:
    """Name, time zone and interface language (None: the browser's)."""
    user.name = name.strip()
    user.time_zone = check_time_zone(time_zone)
    if locale is not None and locale not in LOCALES:
        raise AccountError(N_("Choose a language from the list."))
    user.locale = locale
    session.flush()
    return user
