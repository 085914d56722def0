"""Invites: created by an admin (or a user whose plan allows), e-mailed, accepted once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.limits import limits_for
from ppc_robot.lib.models import User, utcnow
from ppc_robot.lib.models.users import EMAIL_MAX
from ppc_robot.lib.names import names_checked
from ppc_robot.lib.users import create_user, find_user_by_email, normalise_email
from ppc_robot.web.membership.plans import invite_count, start_trial
from ppc_robot.web.membership.tokens import InvalidLinkError, hash_token, new_token
from ppc_robot.web.models import Invite, Plan

security_log = logging.getLogger("ppc_robot.security")

INVITE_TTL = timedelta(days=7)


class InviteError(PpcRobotError):
    """An invite cannot be made or changed as asked; the message is for the user."""


class PendingInviteError(InviteError):
    """The address has a pending invite already; `invite` is it, to resend instead."""

    def __init__(self, invite: Invite) -> None:
        super().__init__(
            f"{invite.email} already has a pending invite (until "
            f"{invite.expires_at:%Y-%m-%d %H:%M} UTC). Resend it instead of inviting again."
        )
        self.invite = invite


def checked_address(email: str) -> str:
    """The address as stored, when it is a well-formed e-mail address (raises InviteError).

    Only its form is checked (no DNS look-up); addresses under the reserved .test domain pass,
    as self-hosted test set-ups use them.
    """
    refused = InviteError("Enter a valid e-mail address, such as name@example.com.")
    email = (email or "").strip()
    if not email or len(email) > EMAIL_MAX:
        raise refused
    try:
        valid = validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise refused from None
    return normalise_email(valid.normalized)


def open_invite(session: Session, email: str) -> Invite | None:
    """The address's invite that is neither accepted nor revoked (pending or expired)."""
    return session.scalar(select(Invite).where(
        Invite.email == email, Invite.accepted_at.is_(None), Invite.revoked_at.is_(None)))


def invite_status(invite: Invite, now: datetime | None = None) -> str:
    """accepted, revoked, expired or pending."""
    now = now or utcnow()
    if invite.accepted_at is not None:
        return "accepted"
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at <= now:
        return "expired"
    return "pending"


def check_may_invite(session: Session, inviter: User) -> None:
    """Admins always may; a user only while his plan's invite allowance lasts."""
    if inviter.is_admin:
        return
    limits = limits_for(session, inviter.id)
    if limits is None or limits.max_invites <= 0:
        raise InviteError(N_("Your plan does not include invites (limit: invites allowed)."))
    if invite_count(session, inviter.id) >= limits.max_invites:
        raise InviteError(
            f"Your plan “{limits.plan_name}” allows {limits.max_invites} invites "
            "(limit: invites allowed), and you have sent them all."
        )


def create_invite(
    session: Session,
    inviter: User,
    email: str,
    *,
    ttl: timedelta = INVITE_TTL,
    plan: Plan | None = None,
) -> tuple[Invite, str]:
    """A new invite and its raw token (for the mail only; the row keeps its hash).

    Raises InviteError for a malformed address, one with an account, or past the inviter's
    allowance, and PendingInviteError when the address has a pending invite (an expired one
    gives way to the new invite).
    """
    email = checked_address(email)
    if find_user_by_email(session, email) is not None:
        raise InviteError(f"{email} already has an account; there is no need to invite it.")
    earlier = open_invite(session, email)
    if earlier is not None and invite_status(earlier) == "pending":
        raise PendingInviteError(earlier)
    check_may_invite(session, inviter)
    raw, token_hash = new_token()
    now = utcnow()
    if earlier is not None:
        earlier.revoked_at = now  # expired: the new invite replaces it
    invite = Invite(
        email=email,
        token_hash=token_hash,
        invited_by_id=inviter.id,
        plan_id=plan.id if plan else None,
        created_at=now,
        expires_at=now + ttl,
        sent_count=0,
    )
    # One open invite per address (a unique index); a parallel request's invite wins.
    with names_checked(session, InviteError(f"{email} was invited a moment ago; resend that "
                                            "invite instead.")):
        session.add(invite)
    security_log.info("invite %s created by user %s", invite.id, inviter.id)
    return invite, raw


def renew_invite(session: Session, invite: Invite, *, ttl: timedelta = INVITE_TTL) -> str:
    """A fresh token and expiry for re-sending; the old link stops working.

    A revoked invite comes back into use: it counts against its inviter's allowance again,
    and gives way to no other open invite of the address (raises InviteError).
    """
    if invite.accepted_at is not None:
        raise InviteError(N_("This invite was accepted already."))
    if find_user_by_email(session, invite.email) is not None:
        raise InviteError(f"{invite.email} already has an account; there is no need to invite it.")
    if invite.revoked_at is not None:
        other = open_invite(session, invite.email)
        if other is not None:
            raise InviteError(f"{invite.email} has a newer invite; resend that one instead.")
        inviter = session.get(User, invite.invited_by_id) if invite.invited_by_id else None
        if inviter is not None:
            check_may_invite(session, inviter)
    raw, invite.token_hash = new_token()
    invite.revoked_at = None
    invite.expires_at = utcnow() + ttl
    session.flush()
    return raw


def mark_sent(invite: Invite) -> None:
    invite.sent_count += 1
    invite.last_sent_at = utcnow()


def revoke_invite(session: Session, invite: Invite) -> Invite:
    if invite.accepted_at is not None:
        raise InviteError(N_("This invite was accepted already; deactivate the user instead."))
    invite.revoked_at = invite.revoked_at or utcnow()
    session.flush()
    security_log.info("invite %s revoked", invite.id)
    return invite


def valid_invite(session: Session, raw_token: str, *, now: datetime | None = None) -> Invite:
    """The pending invite of this token. Raises InvalidLinkError for any other."""
    invite = session.scalar(select(Invite).where(Invite.token_hash == hash_token(raw_token)))
    if invite is None or invite_status(invite, now) != "pending":
        security_log.info("invalid invite link used")
        raise InvalidLinkError()
    return invite


def accept_invite(
    session: Session,
    raw_token: str,
    password: str,
    *,
    name: str = "",
    time_zone: str = "UTC",
    trial_days: int = 14,
) -> User:
    """Create the invited user on a trial; the address and plan come from the invite row.

    Raises InvalidLinkError when the link is not (or no longer) valid, and UserError or
    PasswordPolicyError for a refused account.
    """
    invite = valid_invite(session, raw_token)
    now = utcnow()
    # The guarded update lets exactly one of many parallel acceptances through.
    claimed = session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.accepted_at.is_(None), Invite.revoked_at.is_(None))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InvalidLinkError()
    user = create_user(session, invite.email, password, name=name, time_zone=time_zone)
    user.email_verified_at = now  # the link reached this address
    plan = session.get(Plan, invite.plan_id) if invite.plan_id else None
    start_trial(session, user, days=trial_days, plan=plan, now=now)
    session.refresh(invite)
    invite.accepted_user_id = user.id
    session.flush()
    security_log.info("invite %s accepted by new user %s", invite.id, user.id)
    return user


def invites_by(session: Session, inviter: User) -> Sequence[Invite]:
    stmt = (select(Invite).where(Invite.invited_by_id == inviter.id)
            .order_by(Invite.created_at.desc()))
    return session.scalars(stmt).all()


def all_invites(session: Session) -> Sequence[Invite]:
    return session.scalars(select(Invite).order_by(Invite.created_at.desc()).limit(500)).all()
