"""Invite and token functions called directly, without forms or requests."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from ppc_robot.lib.db import make_session_factory
from ppc_robot.lib.models import User, utcnow
from ppc_robot.web.membership.invites import (
    InviteError,
    accept_invite,
    create_invite,
    renew_invite,
    revoke_invite,
    valid_invite,
)
from ppc_robot.web.membership.plans import default_plan, users_over_limits
from ppc_robot.web.membership.tokens import InvalidLinkError
from ppc_robot.web.models import Subscription
from tests.factories import make_job, make_plan, make_user

PASSWORD = "the invitee passphrase"


def test_twenty_parallel_acceptances_make_exactly_one_account(engine, session):
    admin = make_user(session, is_admin=True)
    invite, raw = create_invite(session, admin, "race@example.test")
    session.commit()
    factory = make_session_factory(engine)
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def accept() -> None:
        with factory() as own:
            start.wait()
            try:
                accept_invite(own, raw, PASSWORD)
                own.commit()
                outcomes.append("created")
            except (InvalidLinkError, OperationalError):
                own.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=accept) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created"] + ["refused"] * 19
    assert session.scalar(select(func.count(User.id)).where(User.email == "race@example.test")) == 1


def test_the_plan_comes_from_the_invite_row(session):
    admin = make_user(session, is_admin=True)
    gold = make_plan(session, name="Gold")
    _, raw = create_invite(session, admin, "gold@example.test", plan=gold)

    user = accept_invite(session, raw, PASSWORD, trial_days=30)

    subscription = session.scalar(select(Subscription).where(Subscription.user_id == user.id))
    assert subscription.plan_id == gold.id
    assert subscription.period_end - subscription.period_start == timedelta(days=30)


def test_without_a_plan_on_the_invite_the_default_plan_is_made_once(session):
    admin = make_user(session, is_admin=True)

    first, second = default_plan(session), default_plan(session)

    assert first.id == second.id and first.is_default and first.max_jobs == 50
    assert admin.is_admin


def test_an_invite_expires_after_its_time_to_live(session):
    admin = make_user(session, is_admin=True)
    _, raw = create_invite(session, admin, "late@example.test", ttl=timedelta(days=7))

    assert valid_invite(session, raw, now=utcnow() + timedelta(days=7, seconds=-1))
    with pytest.raises(InvalidLinkError):
        valid_invite(session, raw, now=utcnow() + timedelta(days=7, seconds=1))


def test_an_accepted_invite_can_be_neither_revoked_nor_renewed(session):
    admin = make_user(session, is_admin=True)
    invite, raw = create_invite(session, admin, "done@example.test")
    accept_invite(session, raw, PASSWORD)

    with pytest.raises(InviteError, match="accepted already"):
        revoke_invite(session, invite)
    with pytest.raises(InviteError, match="accepted already"):
        renew_invite(session, invite)


def test_a_renewed_revoked_invite_works_with_the_new_link_only(session):
    admin = make_user(session, is_admin=True)
    invite, old = create_invite(session, admin, "again@example.test")
    revoke_invite(session, invite)

    new = renew_invite(session, invite)

    assert valid_invite(session, new).id == invite.id
    with pytest.raises(InvalidLinkError):
        valid_invite(session, old)


def test_users_over_a_lowered_limit_are_named(session):
    plan = make_plan(session, name="Tight", max_jobs=1)
    busy, idle = make_user(session), make_user(session)
    make_job(session, busy)
    make_job(session, busy)  # before the plan: its limit was lowered afterwards
    for user in (busy, idle):
        session.add(Subscription(user_id=user.id, plan_id=plan.id))
    session.flush()

    assert users_over_limits(session, plan) == [f"{busy.email} has 2 jobs (limit 1)."]
