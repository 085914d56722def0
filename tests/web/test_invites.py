"""Invites: sent by mail on the configured base URL, accepted once, every bad link alike."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ppc_robot.lib.models import User, utcnow
from ppc_robot.web.models import Invite, Subscription, SubscriptionStatus
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_plan, make_user
from tests.support.accounts import link_in, mails_to, path_of

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def admin(session):
    admin = make_user(session, is_admin=True, email="admin@example.test")
    session.commit()
    return admin


def invite(submit, address, **extra):
    return submit("/admin/invites", {"email": address, "plan_id": 0, **extra})


def sign_up(client, submit, link, password=NEW_PASSWORD, **extra):
    """Open the link (its token goes into the session), then post the sign-up form."""
    opened = client.get(path_of(link))
    assert opened.status_code == 302 and opened.headers["Location"] == "/signup"
    return submit("/signup", {"name": "Ivana", "time_zone": "Europe/Prague",
                              "password": password, "confirm": password, **extra})


@pytest.fixture
def invited(session, client, login, submit, admin, mailbox):
    """An invite made by the admin; returns the link from the mail, the admin logged out."""
    login(admin)
    assert invite(submit, "New.Person@Example.test").status_code == 302
    [mail] = mails_to(mailbox, "new.person@example.test")
    with client.session_transaction() as flask_session:
        flask_session.clear()
    return link_in(mail)


def invalid_page(response):
    assert response.status_code == 404
    assert "This link is no longer valid" in response.text
    return re.sub(r'name="csrf-token" content="[^"]+"', "", response.text)


def test_the_invite_mail_links_to_the_base_url_whatever_the_host_header(
    app, session, client, login, admin, mailbox
):
    login(admin)
    page = client.get("/admin/invites")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    client.set_cookie("session", client.get_cookie("session").value, domain="evil.example")

    response = client.post(
        "/admin/invites", base_url="http://evil.example",
        data={"csrf_token": token, "email": "x@example.test", "plan_id": 0},
        headers={"X-Forwarded-Host": "evil.example"},
    )

    assert response.status_code == 302
    [mail] = mails_to(mailbox, "x@example.test")
    assert link_in(mail).startswith(app.config["PPC_ROBOT_BASE_URL"] + "/invite/")
    assert "evil.example" not in mail.as_string()
    assert mail.get_body(preferencelist=("html",)) is not None


def test_only_the_hash_of_the_token_is_stored(session, invited):
    raw = path_of(invited).rsplit("/", 1)[1]

    stored = session.scalar(select(Invite))

    assert len(raw) >= 43  # 32 random bytes
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.token_hash, stored.email}


def test_the_invitee_signs_up_on_a_trial_and_the_invite_records_him(
    app, session, client, submit, invited
):
    response = sign_up(client, submit, invited, email="attacker@example.test")

    assert response.status_code == 302 and response.headers["Location"] == "/"  # logged in
    user = session.scalar(select(User).where(User.email == "new.person@example.test"))
    assert user is not None and user.time_zone == "Europe/Prague"  # the form's e-mail is ignored
    assert session.scalar(select(User).where(User.email == "attacker@example.test")) is None
    invite_row = session.scalar(select(Invite))
    assert invite_row.accepted_user_id == user.id and invite_row.accepted_at is not None
    subscription = session.scalar(select(Subscription).where(Subscription.user_id == user.id))
    assert subscription.status == SubscriptionStatus.TRIALING
    days = app.config["PPC_ROBOT_TRIAL_DAYS"]
    assert subscription.period_end - subscription.period_start == timedelta(days=days)


def test_the_sign_up_form_is_prefilled_with_the_invited_address(client, invited):
    client.get(path_of(invited))

    page = client.get("/signup")

    assert 'value="new.person@example.test"' in page.text and "readonly" in page.text


def test_a_weak_password_is_refused_beside_the_field(session, client, submit, invited):
    response = sign_up(client, submit, invited, password="short")

    assert response.status_code == 422
    assert "at least 12 characters" in response.text
    assert session.scalar(select(Invite)).accepted_at is None


@pytest.mark.parametrize("spoil", ["expired", "revoked", "used", "tampered"])
def test_a_spoiled_invite_link_gives_the_one_generic_page(session, client, submit, invited, spoil):
    path = path_of(invited)
    if spoil == "expired":
        session.execute(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))
    elif spoil == "revoked":
        session.execute(update(Invite).values(revoked_at=utcnow()))
    elif spoil == "used":
        sign_up(client, submit, invited)
        with client.session_transaction() as flask_session:
            flask_session.clear()
    else:
        path = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    session.commit()

    first = invalid_page(client.get(path))
    unknown = invalid_page(client.get("/invite/" + "x" * 43))

    assert first == unknown
    assert client.get("/signup").status_code == 403  # nothing was kept in the session


def test_an_invite_opened_then_revoked_cannot_be_completed(session, client, submit, invited):
    client.get(path_of(invited))
    page = client.get("/signup")
    session.execute(update(Invite).values(revoked_at=utcnow()))
    session.commit()

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post("/signup", data={"csrf_token": token, "password": NEW_PASSWORD,
                                            "confirm": NEW_PASSWORD, "time_zone": "UTC"})

    invalid_page(response)
    assert session.scalar(select(User).where(User.email == "new.person@example.test")) is None


def test_resending_an_invite_kills_the_older_link(session, client, login, submit, admin,
                                                  mailbox, invited):
    login(admin)
    invite_id = session.scalar(select(Invite.id))

    page = client.get("/admin/invites")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    client.post(f"/admin/invites/{invite_id}/resend", data={"csrf_token": token})

    mails = mails_to(mailbox, "new.person@example.test")
    assert len(mails) == 2
    invalid_page(client.get(path_of(invited)))
    assert client.get(path_of(link_in(mails[1]))).status_code == 302


def test_inviting_an_address_that_has_an_account_says_so(session, login, submit, admin, user):
    login(admin)

    response = invite(submit, user.email.upper())

    assert response.status_code == 422
    assert f"{user.email} already has an account" in response.text


def test_registration_is_by_invitation_unless_configured_open(app, session, client, submit,
                                                              monkeypatch):
    assert client.get("/signup").status_code == 403

    monkeypatch.setitem(app.config, "PPC_ROBOT_OPEN_REGISTRATION", True)
    response = submit("/signup", {"email": "open@example.test", "time_zone": "UTC",
                                  "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    user = session.scalar(select(User).where(User.email == "open@example.test"))
    assert user is not None and user.email_verified_at is None


def test_a_user_whose_plan_allows_invites_may_invite_until_the_allowance_is_used(
    session, client, login, submit, user, mailbox
):
    # The workspace holds one pending invite of his already: one more is left.
    session.add(Subscription(user_id=user.id, plan_id=make_plan(session, max_invites=2).id))
    session.commit()
    login(user)

    first = submit("/settings/invites", {"email": "friend@example.test"})
    second = client.get("/settings/invites")

    assert first.status_code == 302 and len(mails_to(mailbox, "friend@example.test")) == 1
    assert "does not include (more) invites" in second.text


def test_a_user_whose_plan_has_no_invites_cannot_invite(session, client, login, user):
    session.add(Subscription(user_id=user.id, plan_id=make_plan(session, max_invites=0).id))
    session.commit()
    login(user)
    page = client.get("/settings/invites")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)

    response = client.post("/settings/invites", data={"csrf_token": token,
                                                      "email": "friend@example.test"})

    assert response.status_code == 422
    assert "Your plan does not include invites" in response.text
    assert session.scalar(select(Invite).where(Invite.email == "friend@example.test")) is None


def test_a_signed_up_invitee_can_log_in(client, submit, invited):
    sign_up(client, submit, invited)
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").text)})

    response = submit("/login", {"email": "new.person@example.test", "password": NEW_PASSWORD})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert PASSWORD != NEW_PASSWORD


def test_the_environment_sets_registration_ttl_trial_mail_and_limit_storage(tmp_path, monkeypatch,
                                                                            database_url):
    monkeypatch.setenv("PPC_ROBOT_OPEN_REGISTRATION", "1")
    monkeypatch.setenv("PPC_ROBOT_INVITE_TTL_DAYS", "3")
    monkeypatch.setenv("PPC_ROBOT_TRIAL_DAYS", "30")
    monkeypatch.setenv("SMTP_HOST", "mail.example.test")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")

    from ppc_robot.web import create_app
    from tests.conftest import app_config

    config = create_app(app_config(database_url, tmp_path / "instance")).config

    assert config["PPC_ROBOT_OPEN_REGISTRATION"] is True
    assert (config["PPC_ROBOT_INVITE_TTL_DAYS"], config["PPC_ROBOT_TRIAL_DAYS"]) == (3, 30)
    assert config["SMTP_HOST"] == "mail.example.test"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_an_admin_invite_expires_after_the_configured_days(app, session, invited):
    stored = session.scalar(select(Invite))

    lifetime = stored.expires_at - stored.created_at

    assert lifetime == timedelta(days=app.config["PPC_ROBOT_INVITE_TTL_DAYS"]) == timedelta(days=7)
    assert stored.sent_count == 1 and stored.last_sent_at is not None
