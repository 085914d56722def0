"""Reset, invite and confirmation links against real servers: the token never reaches a log, and a
used link does not work again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ppc_robot.lib.models import User
from ppc_robot.web.logs import redact_tokens
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_user
from tests.support.servers import (
    ServedApp,
    flask_run_command,
    free_port,
    gunicorn_command,
    session_cookie,
)

NEW_PASSWORD = "a brand new passphrase 42"
LINK = re.compile(r"https?://[^\s/]+(/(?:password/reset|invite|email/confirm)/([A-Za-z0-9_-]{20,}))")


@pytest.fixture(params=["flask run", "gunicorn"])
def server(request: pytest.FixtureRequest, app: Flask, session: Session,
           tmp_path: Path) -> Iterator[ServedApp]:
    # gunicorn is a dependency (the Procfile's server): a missing one fails here, never skips.
    port = free_port()
    command = flask_run_command(port) if request.param == "flask run" else gunicorn_command(port)
    with ServedApp(app, command, port, tmp_path / "server.log",
                   PPC_ROBOT_INSTANCE_PATH=str(tmp_path / "instance"),
                   PPC_ROBOT_OPEN_REGISTRATION="1") as served:
        served.outbox = tmp_path / "instance" / "outbox"  # type: ignore[attr-defined]
        yield served


def _last_link(outbox: Path) -> tuple[str, str]:
    """The link path and token of the newest mail in the outbox."""
    newest = sorted(outbox.glob("*.eml"))[-1]
    message = BytesParser(policy=policy.default).parsebytes(newest.read_bytes())
    match = LINK.search(message.get_body(("plain",)).get_content())
    assert match, "the mail has no link"
    return match.group(1), match.group(2)


def _post_form(client: httpx.Client, url: str, data: dict[str, str]) -> httpx.Response:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return client.post(url, data={"csrf_token": csrf_token_from(page.text), **data})


def _follow_link(client: httpx.Client, path: str) -> str:
    landing = client.get(path)
    assert landing.status_code == 302, landing.text
    target = landing.headers["Location"]
    assert path.rsplit("/", 1)[1] not in target  # the token leaves the address bar
    return target


def _assert_used(base_url: str, client: httpx.Client, path: str) -> None:
    """The used link opens nothing, for the browser that used it and for anyone else."""
    assert client.get(path).status_code == 404
    with httpx.Client(base_url=base_url) as stranger:
        assert stranger.get(path).status_code == 404


def _reset(server: ServedApp, user: User) -> list[str]:
    with httpx.Client(base_url=server.url) as client:
        forgot = _post_form(client, "/password/forgot", {"email": user.email})
        assert forgot.status_code == 302
        path, token = _last_link(server.outbox)  # type: ignore[attr-defined]
        target = _follow_link(client, path)
        done = _post_form(client, target, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert done.status_code == 302 and "/login" in done.headers["Location"]
        _assert_used(server.url, client, path)
    return [token]


def _invite(server: ServedApp, app: Flask, inviter: User) -> list[str]:
    with httpx.Client(base_url=server.url) as client:
        client.cookies.set("session", session_cookie(app, inviter.session_token), domain="127.0.0.1")
        sent = _post_form(client, "/settings/invites", {"email": "invited.friend@example.test"})
        assert sent.status_code == 302, sent.text
    path, token = _last_link(server.outbox)  # type: ignore[attr-defined]
    with httpx.Client(base_url=server.url) as client:
        target = _follow_link(client, path)
        signed_up = _post_form(client, target, {
            "name": "Friend", "time_zone": "Europe/Prague", "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD})
        assert signed_up.status_code == 302, signed_up.text
        _assert_used(server.url, client, path)
    return [token]


def _confirmation(server: ServedApp) -> list[str]:
    with httpx.Client(base_url=server.url) as client:
        signed_up = _post_form(client, "/signup", {
            "email": "new.person@example.test", "name": "New", "time_zone": "UTC",
            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert signed_up.status_code == 302, signed_up.text
        path, token = _last_link(server.outbox)  # type: ignore[attr-defined]
        target = _follow_link(client, path)
        confirmed = _post_form(client, target, {})
        assert confirmed.status_code == 302, confirmed.text
        _assert_used(server.url, client, path)
    return [token]


def test_link_tokens_stay_out_of_the_server_log_and_work_once(server: ServedApp, app: Flask,
                                                              session: Session) -> None:
    forgetful = make_user(session, email="forgetful@example.test", password=PASSWORD)
    inviter = make_user(session, is_admin=True)  # an admin may always invite
    session.commit()

    tokens = _reset(server, forgetful) + _invite(server, app, inviter) + _confirmation(server)
    log = server.output()

    assert len(set(tokens)) == 3
    for token in tokens:
        assert token not in log
    # The requests were logged, with the token cut out of the address.
    for path in ("/password/reset/", "/invite/", "/email/confirm/"):
        assert f"{path}[redacted]" in log, log[-3000:]


@pytest.mark.parametrize("line", [
    '127.0.0.1 - - [03/Dec/2026 22:57:31] "GET /password/reset/AbC-_123 HTTP/1.1" 302 -',
    '"GET /invite/AbC-_123?utm=x HTTP/1.1" 302 "https://mail.example/invite/AbC-_123"',
    "Exception on /email/confirm/AbC-_123 [GET]",
])
def test_redaction_cuts_every_token_out_of_a_log_line(line: str) -> None:
    assert "AbC-_123" not in redact_tokens(line)
    assert "[redacted]" in redact_tokens(line)


def test_every_route_taking_a_token_is_redacted(app: Flask) -> None:
    rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]

    assert rules
    for rule in rules:
        path = rule.rule.replace("<token>", "SeCrEt-token_0123456789")
        assert "SeCrEt" not in redact_tokens(f"GET {path} HTTP/1.1"), rule.rule
