"""Sign-up: the browser's time zone preselected, checked on the server; the new user logged in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import User
from ppc_robot.web.membership.invites import create_invite
from tests.factories import make_user

NEW_PASSWORD = "a brand new passphrase"
ZONE_SELECT = re.compile(r"<select[^>]*data-browser-time-zone[^>]*>")


@pytest.fixture
def invite_link(session):
    admin = make_user(session, is_admin=True)
    _invite, token = create_invite(session, admin, "invited@example.test")
    session.commit()
    return f"/invite/{token}"


@pytest.fixture
def open_registration(app, monkeypatch):
    monkeypatch.setitem(app.config, "PPC_ROBOT_OPEN_REGISTRATION", True)


def sign_up(submit, **fields):
    data = {"name": "Ivana", "time_zone": "Europe/Prague", "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD}
    data.update(fields)
    return submit("/signup", data)


def stored(session, email):
    session.rollback()
    return session.scalar(select(User).where(User.email == email))


def test_an_invitee_is_logged_in_after_signing_up(session, client, submit, invite_link):
    client.get(invite_link)

    response = sign_up(submit)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "invited@example.test" in dashboard.text or "Ivana" in dashboard.text
    assert stored(session, "invited@example.test").time_zone == "Europe/Prague"


def test_open_sign_up_logs_the_new_user_in(session, client, submit, open_registration):
    response = sign_up(submit, email="open@example.test", time_zone="America/Sao_Paulo")

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    user = stored(session, "open@example.test")
    assert user.time_zone == "America/Sao_Paulo" and user.email_verified_at is None


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "utc ", ""])
def test_a_time_zone_zoneinfo_does_not_know_is_refused(session, client, submit, open_registration,
                                                       zone):
    response = sign_up(submit, email="open@example.test", time_zone=zone)

    assert response.status_code == 422
    assert stored(session, "open@example.test") is None


def test_the_form_asks_the_browser_for_its_zone_until_the_user_has_chosen(client, submit,
                                                                          open_registration):
    page = client.get("/signup")

    assert ZONE_SELECT.search(page.text)
    assert '<script src="/static/js/time-zone.js"></script>' in page.text
    assert "<script>" not in page.text  # no inline script: the CSP forbids it

    refused = sign_up(submit, email="open@example.test", time_zone="Asia/Tokyo", confirm="other")

    assert refused.status_code == 422
    assert not ZONE_SELECT.search(refused.text)  # what the user chose stays chosen
    assert re.search(r'<option selected value="Asia/Tokyo">|<option value="Asia/Tokyo" selected',
                     refused.text)


def test_the_invite_form_asks_the_browser_for_its_zone_too(client, invite_link):
    client.get(invite_link)

    page = client.get("/signup")

    assert ZONE_SELECT.search(page.text)
