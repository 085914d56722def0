"""Invites go only to well-formed addresses, once: a pending invite is offered for resending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ppc_robot.lib.models import utcnow
from ppc_robot.web.membership.invites import (
    InviteError,
    PendingInviteError,
    create_invite,
    renew_invite,
    revoke_invite,
)
from ppc_robot.web.models import Invite, Subscription
from tests.conftest import csrf_token_from
from tests.factories import make_invite, make_plan, make_user
from tests.support.accounts import mails_to


@pytest.fixture
def admin(session):
    admin = make_user(session, is_admin=True, email="admin@example.test")
    session.commit()
    return admin


@pytest.mark.parametrize("address", ["<script>@x.com", "a b@example.test", "no-at-sign",
                                     "two@@example.test", "x@localhost", "x@-bad-.test"])
def test_a_malformed_address_is_refused(session, admin, address):
    with pytest.raises(InviteError, match="valid e-mail address"):
        create_invite(session, admin, address)

    assert session.scalars(select(Invite)).all() == []


def test_a_second_invite_to_a_pending_address_is_refused_naming_the_first(session, admin):
    first, _ = create_invite(session, admin, "Friend@Example.test")

    with pytest.raises(PendingInviteError, match="already has a pending invite") as refused:
        create_invite(session, admin, "  friend@example.TEST ")

    assert refused.value.invite is first


def test_an_expired_invite_gives_way_to_a_new_one(session, admin):
    old = make_invite(session, admin, email="late@example.test",
                      expires_at=utcnow() - timedelta(hours=1))

    new, _ = create_invite(session, admin, "late@example.test")

    assert old.revoked_at is not None and new.id != old.id


def test_the_database_keeps_one_open_invite_per_address(session, admin):
    make_invite(session, admin, email="once@example.test")
    session.add(Invite(email="once@example.test", token_hash="0" * 64, invited_by_id=admin.id,
                       expires_at=utcnow() + timedelta(days=1), sent_count=0))

    with pytest.raises(IntegrityError):
        session.flush()


def test_renewing_a_revoked_invite_counts_against_the_allowance_again(session, user):
    session.add(Subscription(user_id=user.id, plan_id=make_plan(session, max_invites=1).id))
    session.flush()
    for pending in session.scalars(select(Invite).where(Invite.invited_by_id == user.id)):
        revoke_invite(session, pending)
    revoked, _ = create_invite(session, user, "first@example.test")
    revoke_invite(session, revoked)
    create_invite(session, user, "second@example.test")

    with pytest.raises(InviteError, match="limit: invites allowed"):
        renew_invite(session, revoked)


def test_the_invites_page_offers_to_resend_a_pending_invite(session, client, login, submit,
                                                             admin, mailbox):
    login(admin)
    submit("/admin/invites", {"email": "pending@example.test", "plan_id": 0})

    response = submit("/settings/invites", {"email": "Pending@example.test"})

    assert response.status_code == 422
    assert "pending@example.test already has a pending invite" in response.text
    assert 'value="Pending@example.test"' in response.text
    invite = session.scalar(select(Invite).where(Invite.email == "pending@example.test"))
    assert f"/settings/invites/{invite.id}/resend" in response.text


def test_resending_from_the_settings_page_mails_again_and_extends_it(session, client, login,
                                                                      submit, user, mailbox):
    session.add(Subscription(user_id=user.id, plan_id=make_plan(session, max_invites=5).id))
    session.commit()
    login(user)
    submit("/settings/invites", {"email": "friend@example.test"})
    invite = session.scalar(select(Invite).where(Invite.email == "friend@example.test"))
    invite.expires_at = first_expiry = utcnow() + timedelta(hours=1)  # nearly over
    session.commit()
    page = client.get("/settings/invites")

    response = client.post(f"/settings/invites/{invite.id}/resend",
                           data={"csrf_token": csrf_token_from(page.text)})

    session.rollback()
    session.expire_all()
    assert response.status_code == 302
    assert len(mails_to(mailbox, "friend@example.test")) == 2
    assert session.get(Invite, invite.id).expires_at > first_expiry + timedelta(days=5)
    assert session.get(Invite, invite.id).sent_count == 2


def test_the_admin_invites_page_offers_to_resend_a_pending_invite(session, client, login, submit,
                                                                   admin, mailbox):
    login(admin)
    submit("/admin/invites", {"email": "twice@example.test", "plan_id": 0})

    response = submit("/admin/invites", {"email": "twice@example.test", "plan_id": 0})

    invite = session.scalar(select(Invite).where(Invite.email == "twice@example.test"))
    assert response.status_code == 422
    assert "already has a pending invite" in response.text
    assert f"/admin/invites/{invite.id}/resend" in response.text
    assert len(session.scalars(select(Invite).where(Invite.email == "twice@example.test")).all()) == 1


def test_a_malformed_address_is_refused_on_the_settings_form(session, client, login, submit,
                                                              admin):
    login(admin)

    response = submit("/settings/invites", {"email": "<script>@x.com"})

    assert response.status_code == 422
    assert "Enter a valid e-mail address" in response.text
    assert "&lt;script&gt;@x.com" in response.text
