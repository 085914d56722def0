"""The user's own settings: profile and time zone, password, e-mail, usage."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import User
from ppc_robot.web.models import Subscription
from tests.factories import PASSWORD, make_job, make_plan
from tests.support.accounts import link_in, mails_to, path_of

NEW_PASSWORD = "a different passphrase"


def test_the_profile_saves_a_time_zone_from_zoneinfo(session, login, submit, user):
    login(user)

    response = submit("/settings/", {"name": "Jana", "time_zone": "America/New_York"})

    session.refresh(user)
    assert response.status_code == 302
    assert (user.name, user.time_zone) == ("Jana", "America/New_York")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused_beside_the_field(session, login, submit, user, zone):
    login(user)

    response = submit("/settings/", {"name": "Jana", "time_zone": zone})

    session.refresh(user)
    assert response.status_code == 422
    assert "is-invalid" in response.text
    assert user.time_zone == "UTC"


def test_the_password_change_needs_the_current_password(session, login, submit, user):
    login(user)

    response = submit("/settings/password", {"current": "not it at all", "password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD})

    assert response.status_code == 422
    assert "The current password is not right." in response.text


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, login, client,
                                                                          submit, user):
    other = app.test_client()
    with other.session_transaction() as flask_session:
        flask_session["_user_id"] = user.session_token
    login(user)

    response = submit("/settings/password", {"current": PASSWORD, "password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert client.get("/settings/").status_code == 200
    assert other.get("/settings/").status_code == 302


def test_a_new_address_needs_the_password_and_counts_only_once_confirmed(
    session, client, login, submit, user, mailbox
):
    login(user)
    refused = submit("/settings/email", {"email": "new@example.test", "password": "wrong one"})
    asked = submit("/settings/email", {"email": "new@example.test", "password": PASSWORD})

    session.refresh(user)
    assert refused.status_code == 422 and "The current password is not right." in refused.text
    assert asked.status_code == 302 and user.email != "new@example.test"
    assert len(mails_to(mailbox, user.email)) == 1  # the notice to the old address

    link = link_in(mails_to(mailbox, "new@example.test")[0])
    assert client.get(path_of(link)).status_code == 302
    assert "Confirm that new@example.test is yours" in client.get("/email/confirm").text
    confirmed = submit("/email/confirm", {})
    session.rollback()  # end the read snapshot of the first check
    session.refresh(user)
    assert confirmed.status_code == 302
    assert user.email == "new@example.test" and user.email_verified_at is not None
    assert "This link is no longer valid" in client.get(path_of(link)).text


def test_an_address_of_another_account_is_refused(login, submit, user, other_user):
    login(user)

    response = submit("/settings/email", {"email": other_user.email, "password": PASSWORD})

    assert response.status_code == 422
    assert "Another account uses this address." in response.text


def test_the_usage_page_shows_each_limit_and_its_use(session, client, login, user):
    plan = make_plan(session, name="Small", max_jobs=5, max_client_accounts=3)
    session.add(Subscription(user_id=user.id, plan_id=plan.id))
    make_job(session, user)
    session.commit()
    login(user)

    page = client.get("/settings/usage").text

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Plan Small" in text
    assert "Jobs 2 5" in text
    assert "Linked client accounts 1 3" in text
    assert "Shortest schedule interval 60 minutes" in text


def test_the_settings_item_is_in_the_navigation(client, login, user):
    login(user)

    page = client.get("/")

    assert 'href="/settings/"' in page.text


def test_the_user_row_is_untouched_by_a_refused_change(session, login, submit, user):
    login(user)
    submit("/settings/password", {"current": PASSWORD, "password": "short", "confirm": "short"})

    assert session.scalar(select(User.password_hash).where(User.id == user.id)) == \
        user.password_hash


def test_a_lapsed_subscription_says_the_jobs_are_paused(session, client, login, user):
    plan = make_plan(session, name="Ended")
    session.add(Subscription(user_id=user.id, plan_id=plan.id, status="cancelled"))
    session.commit()
    login(user)

    page = client.get("/settings/usage").text

    assert "your jobs are paused and all your data is kept" in page
