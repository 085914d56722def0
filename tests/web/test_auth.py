from __future__ import annotations

import pytest

from tests.conftest import csrf_token_from
from tests.factories import PASSWORD


def log_in(client, email, password):
    page = client.get("/login")
    return client.post(
        "/login", data={"csrf_token": csrf_token_from(page.text), "email": email, "password": password}
    )


def test_login_with_the_right_password_opens_the_dashboard(client, user):
    response = log_in(client, user.email, PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Dashboard" in client.get("/").text


def test_login_accepts_the_email_in_any_case(client, user):
    response = log_in(client, "  " + user.email.upper(), PASSWORD)

    assert response.status_code == 302


@pytest.mark.parametrize("which", ["wrong password", "unknown e-mail"])
def test_failed_login_gives_one_generic_message(client, user, which):
    email, password = (user.email, "not the password") if which == "wrong password" else ("nobody@example.test", PASSWORD)

    response = log_in(client, email, password)

    assert response.status_code == 422
    assert "The e-mail or password is not right." in response.text
    assert f'value="{email}"' in response.text  # what was typed is kept
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_log_in_and_loses_his_session(client, login, session, user):
    login(user)
    user.is_active = False
    session.commit()

    assert client.get("/").status_code == 302
    assert log_in(client, user.email, PASSWORD).status_code == 422


def test_a_copied_session_cookie_is_dead_after_logout(app, client, user):
    log_in(client, user.email, PASSWORD)
    copied = client.get_cookie("session").value
    token = csrf_token_from(client.get("/").text)

    client.post("/logout", data={"csrf_token": token})
    replay = app.test_client()
    replay.set_cookie("session", copied, domain="localhost")

    assert replay.get("/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_next_never_leads_off_site(client, user, target):
    page = client.get("/login")

    response = client.post(
        f"/login?next={target}",
        data={"csrf_token": csrf_token_from(page.text), "email": user.email, "password": PASSWORD},
    )

    assert response.headers["Location"] == "/"


def test_next_on_this_site_is_followed(client, user, workspace):
    page = client.get("/login")

    response = client.post(
        f"/login?next=/folders/{workspace.folder.id}",
        data={"csrf_token": csrf_token_from(page.text), "email": user.email, "password": PASSWORD},
    )

    assert response.headers["Location"] == f"/folders/{workspace.folder.id}"


def test_pages_carry_security_headers(client, login, user):
    login(user)

    response = client.get("/")

    assert "object-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_page_shows_the_404_page(client, login, user):
    login(user)

    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert "Page not found" in response.text
