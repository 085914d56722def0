"""An unverified address can ask for its confirmation again, within limits; the demo is verified."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ppc_robot.lib.demo import DEMO_EMAIL
from ppc_robot.lib.models import utcnow
from ppc_robot.lib.users import find_user_by_email
from ppc_robot.web.membership.accounts import (
    CONFIRMATION_COOLDOWN,
    AccountError,
    resend_email_verification,
)
from tests.conftest import csrf_token_from
from tests.support.accounts import link_in, mails_to, path_of

AGAIN = "Send the confirmation again"


def ask_again(client):
    page = client.get("/settings/")
    assert AGAIN in page.text
    return client.post("/settings/email/confirm-again", data={"csrf_token": csrf_token_from(page.text)})


def test_an_unverified_user_gets_the_confirmation_again_and_it_verifies_him(
        session, client, login, submit, user, mailbox):
    login(user)

    response = ask_again(client)

    assert response.status_code == 302
    [mail] = mails_to(mailbox, user.email)
    assert client.get(path_of(link_in(mail))).status_code == 302
    assert submit("/email/confirm", {}).status_code == 302
    session.rollback()
    session.refresh(user)
    assert user.email_verified_at is not None
    assert AGAIN not in client.get("/settings/").text


def test_the_notification_settings_offer_it_while_the_address_is_unverified(client, login, user):
    login(user)

    assert AGAIN in client.get("/notifications/settings").text


def test_asking_again_within_the_cooldown_is_refused_and_sends_nothing(
        session, client, login, user, mailbox):
    login(user)
    ask_again(client)

    response = ask_again(client)

    assert response.status_code == 302
    assert len(mails_to(mailbox, user.email)) == 1
    assert "wait" in client.get("/settings/").text


def test_the_cooldown_passes(session, user):
    resend_email_verification(session, user, now=utcnow() - CONFIRMATION_COOLDOWN)

    assert resend_email_verification(session, user)


def test_a_verified_address_needs_no_confirmation(session, user):
    user.email_verified_at = utcnow()

    with pytest.raises(AccountError, match="already confirmed"):
        resend_email_verification(session, user)


def test_the_address_is_limited_per_hour_across_users(app, session, client, login, user,
                                                      monkeypatch):
    monkeypatch.setitem(app.config, "PPC_ROBOT_RATE_LIMIT_CONFIRM", "1 per hour")
    login(user)
    ask_again(client)

    page = client.get("/settings/")
    response = client.post("/settings/email/confirm-again",
                           data={"csrf_token": csrf_token_from(page.text)})

    assert response.status_code == 429


def test_the_demo_user_is_seeded_verified(app, session):
    app.test_cli_runner().invoke(args=["seed-demo"])

    session.rollback()
    demo = find_user_by_email(session, DEMO_EMAIL)
    assert demo is not None and demo.email_verified_at is not None
    assert demo.email_verified_at > utcnow() - timedelta(minutes=5)
