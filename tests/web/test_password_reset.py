"""Password reset by e-mailed link: one use, 60 minutes, the same answer for every address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ppc_robot.lib.models import User, utcnow
from ppc_robot.web.models import AccountToken
from tests.factories import PASSWORD
from tests.support.accounts import link_in, mails_to, path_of

NEW_PASSWORD = "another long passphrase"


def ask_reset(client, submit, email):
    response = submit("/password/forgot", {"email": email})
    with client.session_transaction() as flask_session:
        flask_session.clear()
    return response


def reset_with(client, submit, link, password=NEW_PASSWORD):
    opened = client.get(path_of(link))
    if opened.status_code != 302:
        return opened
    return submit("/password/reset", {"password": password, "confirm": password})


def can_log_in(app, email, password):
    fresh = app.test_client()
    page = fresh.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = fresh.post("/login", data={"csrf_token": token, "email": email,
                                          "password": password})
    return response.status_code == 302


def assert_invalid(response):
    assert response.status_code == 404
    assert "This link is no longer valid" in response.text


def test_the_answer_is_the_same_whether_or_not_the_account_exists(client, submit, user, mailbox):
    known = ask_reset(client, submit, user.email)
    unknown = ask_reset(client, submit, "nobody@example.test")

    assert (known.status_code, known.headers["Location"]) == (302, "/login")
    assert (unknown.status_code, unknown.headers["Location"]) == (302, "/login")
    assert len(mails_to(mailbox, user.email)) == 1
    assert mails_to(mailbox, "nobody@example.test") == []


def test_a_reset_link_sets_a_new_password_once(app, session, client, submit, user, mailbox):
    ask_reset(client, submit, user.email)
    link = link_in(mails_to(mailbox, user.email)[0])

    response = reset_with(client, submit, link)

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert can_log_in(app, user.email, NEW_PASSWORD)
    assert not can_log_in(app, user.email, PASSWORD)
    assert_invalid(reset_with(client, submit, link, password="yet another passphrase"))
    assert can_log_in(app, user.email, NEW_PASSWORD)


@pytest.mark.parametrize(("age", "valid"), [(59, True), (61, False)])
def test_a_reset_link_works_for_60_minutes(session, client, submit, user, mailbox, age, valid):
    ask_reset(client, submit, user.email)
    link = link_in(mails_to(mailbox, user.email)[0])
    issued = utcnow() - timedelta(minutes=age)
    session.execute(update(AccountToken).values(created_at=issued,
                                                expires_at=issued + timedelta(minutes=60)))
    session.commit()

    response = reset_with(client, submit, link)

    if valid:
        assert response.status_code == 302
    else:
        assert_invalid(response)


def test_a_tampered_link_is_invalid(client, submit, user, mailbox):
    ask_reset(client, submit, user.email)
    link = link_in(mails_to(mailbox, user.email)[0])
    tampered = link[:-3] + ("xyz" if not link.endswith("xyz") else "abc")

    assert_invalid(reset_with(client, submit, tampered))
    assert_invalid(client.get("/password/reset"))  # nothing kept from the bad link


def test_a_newer_link_makes_the_older_one_invalid(client, submit, user, mailbox):
    ask_reset(client, submit, user.email)
    ask_reset(client, submit, user.email)
    older, newer = (link_in(m) for m in mails_to(mailbox, user.email))

    assert_invalid(reset_with(client, submit, older))
    assert reset_with(client, submit, newer).status_code == 302


def test_changing_the_password_makes_an_unused_link_invalid(session, client, submit, login,
                                                            user, mailbox):
    ask_reset(client, submit, user.email)
    link = link_in(mails_to(mailbox, user.email)[0])
    login(user)
    submit("/settings/password", {"current": PASSWORD, "password": NEW_PASSWORD,
                                  "confirm": NEW_PASSWORD})
    with client.session_transaction() as flask_session:
        flask_session.clear()

    assert_invalid(reset_with(client, submit, link, password="yet another passphrase"))


def test_only_the_hash_of_a_reset_token_is_stored(session, client, submit, user, mailbox):
    ask_reset(client, submit, user.email)
    raw = path_of(link_in(mails_to(mailbox, user.email)[0])).rsplit("/", 1)[1]

    stored = session.scalar(select(AccountToken))

    assert raw not in (stored.token_hash, stored.new_email or "")


def test_six_requests_in_an_hour_send_five_mails(client, submit, user, mailbox):
    answers = {ask_reset(client, submit, user.email).headers["Location"] for _ in range(6)}

    assert answers == {"/login"}
    assert len(mails_to(mailbox, user.email)) == 5


def test_a_deactivated_user_gets_no_reset_mail(session, client, submit, user, mailbox):
    session.get(User, user.id).is_active = False
    session.commit()

    ask_reset(client, submit, user.email)

    assert mails_to(mailbox, user.email) == []
