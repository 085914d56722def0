"""Login throttling per account (database) and per address (Flask-Limiter), at the threshold."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from ppc_robot.lib.models import utcnow
from ppc_robot.web import create_app
from ppc_robot.web.auth.views import LOGIN_FAILED, LOGIN_LOCKED
from ppc_robot.web.membership.throttle import MAX_FAILURES
from ppc_robot.web.models import LoginFailure
from tests.conftest import app_config
from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def attempt(client, email, password, address="127.0.0.1"):
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ)
    token = CSRF.search(page.text).group(1)
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password},
                       environ_base=environ)


def without_token(html):
    html = re.sub(r'name="csrf-token" content="[^"]+"', "", html)
    return CSRF.sub("", html)


@pytest.mark.parametrize("account", ["existing", "unknown"])
def test_the_11th_attempt_on_an_account_is_refused_even_with_the_right_password(
    client, user, account
):
    email = user.email if account == "existing" else "nobody@example.test"

    failures = [attempt(client, email, "wrong password", f"10.0.0.{n}") for n in range(10)]
    eleventh = attempt(client, email, PASSWORD, "10.0.1.1")

    assert [r.status_code for r in failures] == [422] * MAX_FAILURES
    assert all(LOGIN_FAILED in r.text for r in failures)
    assert eleventh.status_code == 429
    assert LOGIN_LOCKED in eleventh.text
    assert client.get("/").status_code == 302  # not logged in


def test_a_locked_account_and_an_unknown_one_get_the_same_answer(client, user):
    for email in (user.email, "nobody@example.test"):
        for n in range(MAX_FAILURES):
            attempt(client, email, "wrong password", f"10.1.{n}.1")

    known = attempt(client, user.email, PASSWORD, "10.2.0.1")
    unknown = attempt(client, "nobody@example.test", PASSWORD, "10.2.0.2")

    assert known.status_code == unknown.status_code == 429
    assert without_token(known.text).replace(user.email, "X") == without_token(
        unknown.text).replace("nobody@example.test", "X")


def test_the_lock_ends_after_15_minutes(session, client, user):
    for n in range(MAX_FAILURES):
        attempt(client, user.email, "wrong password", f"10.3.{n}.1")
    session.execute(update(LoginFailure).values(created_at=utcnow() - timedelta(minutes=15)))
    session.commit()

    response = attempt(client, user.email, PASSWORD, "10.4.0.1")

    assert response.status_code == 302


def test_nine_failures_then_the_right_password_log_in_and_reset_the_count(session, client, user):
    for n in range(MAX_FAILURES - 1):
        attempt(client, user.email, "wrong password", f"10.5.{n}.1")

    response = attempt(client, user.email, PASSWORD, "10.6.0.1")

    assert response.status_code == 302
    assert session.query(LoginFailure).count() == 0


def test_the_21st_login_from_one_address_within_a_minute_is_refused(client, user):
    answers = [attempt(client, f"n{n}@example.test", "wrong password", "10.9.9.9").status_code
               for n in range(20)]

    refused = attempt(client, user.email, PASSWORD, "10.9.9.9")
    elsewhere = attempt(client, user.email, PASSWORD, "10.9.9.10")

    assert answers == [422] * 20
    assert refused.status_code == 429
    assert "Too many attempts from your address" in refused.text
    assert elsewhere.status_code == 302


def test_two_web_processes_share_the_address_limit_through_redis(database_url, tmp_path, user):
    """Two apps (as two gunicorn workers would be) on one Redis count one address together."""
    prefix = f"ppc-robot-test-{uuid.uuid4().hex}"
    apps = [
        create_app(app_config(database_url, tmp_path / name,
                              RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                              RATELIMIT_KEY_PREFIX=prefix))
        for name in ("first", "second")
    ]
    clients = [each.test_client() for each in apps]

    answers = [attempt(clients[n % 2], f"r{n}@example.test", "wrong password", "10.8.8.8")
               .status_code for n in range(20)]
    refused = attempt(clients[0], user.email, PASSWORD, "10.8.8.8")

    assert answers == [422] * 20
    assert refused.status_code == 429  # the keys are this test's own and expire in a minute


@pytest.mark.parametrize(("scope", "method", "path", "allowed", "answer"), [
    ("reset", "POST", "/password/forgot", 10, 302),
    ("signup", "POST", "/signup", 10, 403),
    ("invite", "GET", "/invite/" + "x" * 43, 20, 404),
])
def test_sign_up_reset_and_invite_links_are_limited_per_address_at_the_threshold(
    client, scope, method, path, allowed, answer
):
    environ = {"REMOTE_ADDR": f"10.7.7.{len(scope)}"}
    token = CSRF.search(client.get("/login", environ_base=environ).text).group(1)

    def send():
        data = {"csrf_token": token, "email": "someone@example.test"}
        if method == "POST":
            return client.post(path, data=data, environ_base=environ).status_code
        return client.get(path, environ_base=environ).status_code

    answers = [send() for _ in range(allowed)]
    refused = send()

    assert answers == [answer] * allowed
    assert refused == 429
