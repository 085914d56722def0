"""The accounts area: linking (Sandbox, Sklik, Google Ads OAuth), sync, unlink, tags."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ppc_robot.lib.models import (
    Base,
    ClientAccount,
    ClientAccountStatus,
    ClientAccountTag,
    Notification,
    Platform,
    ServiceAccount,
    ServiceAccountStatus,
)
from tests.factories import Workspace, make_user
from tests.stubs.google import GoogleStub
from tests.stubs.sklik import SklikStub
from tests.support import platforms as platform_fixtures
from tests.support.platforms import SKLIK_TOKEN, google_settings, microsoft_settings

sklik_stub = platform_fixtures.sklik_stub
google_stub = platform_fixtures.google_stub
microsoft_stub = platform_fixtures.microsoft_stub


@pytest.fixture
def logged_in(login, user):
    login(user)
    return user


@pytest.fixture
def sklik(app, monkeypatch, sklik_stub: SklikStub) -> SklikStub:
    monkeypatch.setitem(app.config, "PPC_ROBOT_SKLIK_URL", sklik_stub.base_url)
    monkeypatch.setitem(app.config, "PPC_ROBOT_RETRY_MAX_WAIT_SECONDS", 0)
    monkeypatch.setitem(app.config, "PPC_ROBOT_RETRY_ATTEMPTS", 1)
    return sklik_stub


@pytest.fixture
def google(app, monkeypatch, google_stub: GoogleStub) -> GoogleStub:
    settings = google_settings(google_stub)
    for key in ("google_ads_url", "google_ads_developer_token", "google_oauth_authorize_url",
                "google_oauth_token_url", "google_client_id", "google_client_secret"):
        monkeypatch.setitem(app.config, f"PPC_ROBOT_{key.upper()}", getattr(settings, key))
    monkeypatch.setitem(app.config, "PPC_ROBOT_RETRY_MAX_WAIT_SECONDS", 0)
    google_stub.redirect_uris.add("http://localhost/oauth/google-ads/callback")
    return google_stub


def _refresh(session: Session) -> None:
    """A fresh snapshot: the app changed the rows in its own session."""
    session.commit()
    session.expire_all()


def _logins(session: Session, platform: Platform) -> list[ServiceAccount]:
    _refresh(session)
    return list(session.scalars(select(ServiceAccount).where(ServiceAccount.platform == platform)))


def _post(client, url: str, data: dict | None = None, *, page: str = "/accounts/"):
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **(data or {})})


def test_link_sandbox_shows_its_client_accounts(client, session, logged_in) -> None:
    response = _post(client, "/accounts/link/sandbox")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Acme Shoes CZ" in page.text and "Bike Rental Vienna" in page.text
    assert "valid" in client.get("/accounts/").text


def test_link_sklik_with_the_stand_in(client, session, submit, logged_in, sklik) -> None:
    response = submit("/accounts/link/sklik", {"token": SKLIK_TOKEN})
    assert response.status_code == 302
    (login,) = _logins(session, Platform.SKLIK)
    assert login.name == "agency@example.cz"
    page = client.get(response.headers["Location"]).text
    assert "eshop@example.cz" in page and SKLIK_TOKEN not in page


def test_a_link_refused_by_the_installations_settings_names_them_and_reaches_the_admins(
        app, monkeypatch, client, session, submit, logged_in, sklik) -> None:
    admin = make_user(session, is_admin=True)
    session.commit()
    monkeypatch.setitem(app.config, "PPC_ROBOT_SKLIK_URL", sklik.url + "/drak/json/v4")

    response = submit("/accounts/link/sklik", {"token": SKLIK_TOKEN})

    assert response.status_code == 422
    assert "PPC_ROBOT_SKLIK_URL" in response.text
    assert _logins(session, Platform.SKLIK) == []
    session.expire_all()
    notices = session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()
    assert [(n.category, n.code) for n in notices] == [(2, 3)]


def test_wrong_sklik_token_is_refused_beside_the_field(client, session, submit, logged_in,
                                                      sklik) -> None:
    response = submit("/accounts/link/sklik", {"token": "wrong-token"})
    assert response.status_code == 422
    assert "Sklik refused the API token" in response.text
    assert "wrong-token" not in response.text  # a secret is never rendered back
    assert _logins(session, Platform.SKLIK) == []


def test_sync_with_garbage_keeps_accounts_and_says_why(client, session, submit, logged_in,
                                                       sklik) -> None:
    submit("/accounts/link/sklik", {"token": SKLIK_TOKEN})
    (login,) = _logins(session, Platform.SKLIK)
    before = sorted((a.external_id, a.name, a.status) for a in login.client_accounts)
    for failure in ("garbage", ("http", 502)):
        sklik.expire_sessions()
        sklik.fail_next = [failure]
        response = _post(client, f"/accounts/{login.id}/sync")
        page = client.get(response.headers["Location"]).text
        assert "Sync failed" in page and "left as they were" in page
        (login,) = _logins(session, Platform.SKLIK)
        assert sorted((a.external_id, a.name, a.status) for a in login.client_accounts) == before
        assert login.last_error


def test_unlink_warns_about_jobs_and_deletes_credentials(client, session, workspace: Workspace,
                                                        logged_in) -> None:
    login = workspace.service_account
    login.credentials_encrypted = "gAAAA-not-really"
    session.commit()
    page = client.get(f"/accounts/{login.id}/unlink")
    assert workspace.job.name in page.text
    response = _post(client, f"/accounts/{login.id}/unlink", {"client_accounts": "remove"},
                     page=f"/accounts/{login.id}/unlink")
    assert response.status_code == 302
    _refresh(session)
    assert login.credentials_encrypted is None and login.status is ServiceAccountStatus.UNLINKED
    # the workspace's account is used by a job: marked removed, not deleted
    assert session.get(ClientAccount, workspace.client_account.id).status is (
        ClientAccountStatus.REMOVED)


def test_bulk_tagging_and_filters(client, session, workspace: Workspace, logged_in) -> None:
    _post(client, "/accounts/link/sandbox")
    tag = ClientAccountTag(user_id=workspace.user.id, name="key account")
    session.add(tag)
    session.commit()
    accounts = session.scalars(select(ClientAccount).where(
        ClientAccount.user_id == workspace.user.id, ClientAccount.currency == "EUR")).all()
    ids = [a.id for a in accounts]
    response = _post(client, "/accounts/client-accounts/tag",
                     {"bulk-client_account_ids": ids, "bulk-tag_id": tag.id, "bulk-action": "add"},
                     page="/accounts/client-accounts")
    assert response.status_code == 302
    listed = client.get(f"/accounts/client-accounts?tag_id={tag.id}").text
    assert all(a.name in listed for a in accounts)
    assert "Acme Shoes CZ" not in listed
    sandbox_only = client.get("/accounts/client-accounts?platform=sandbox&status=active").text
    assert "Acme Shoes CZ" in sandbox_only


def test_bulk_tagging_ignores_other_users_accounts(client, session, workspace, other_workspace,
                                                   logged_in) -> None:
    theirs = other_workspace.client_account
    response = _post(client, "/accounts/client-accounts/tag",
                     {"bulk-client_account_ids": [theirs.id],
                      "bulk-tag_id": workspace.client_account_tag.id, "bulk-action": "add"}, page="/accounts/client-accounts")
    assert response.status_code == 302
    _refresh(session)
    assert workspace.client_account_tag not in session.get(ClientAccount, theirs.id).tags
    response = _post(client, "/accounts/client-accounts/tag",
                     {"bulk-client_account_ids": [workspace.client_account.id],
                      "bulk-tag_id": other_workspace.client_account_tag.id, "bulk-action": "add"},
                     page="/accounts/client-accounts")
    assert response.status_code == 302  # not among the choices: refused with a message
    _refresh(session)
    assert session.get(ClientAccount, workspace.client_account.id).tags == [
        workspace.client_account_tag]


def _consent(client, google: GoogleStub) -> str:
    """Follow the app to the stand-in's consent page; the address it sends the browser back to."""
    start = client.get("/accounts/link/google-ads/authorize")
    assert start.status_code == 302
    consent = httpx.get(start.headers["Location"], follow_redirects=False)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    return f"{back.path}?{back.query}"


def test_google_ads_oauth_flow_links_the_hierarchy(client, session, logged_in, google) -> None:
    response = client.get(_consent(client, google))
    assert response.status_code == 302
    # The access token of the code exchange serves the linking's calls: no refresh on top.
    grants = [r.form()["grant_type"] for r in google.requests if r.path.endswith("/token")]
    assert grants == ["authorization_code"]
    (login,) = _logins(session, Platform.GOOGLE_ADS)
    assert {a.external_id for a in login.client_accounts} == {
        "1234567890", "5556667777", "9990001111"}
    assert "refresh" not in client.get(response.headers["Location"]).text


def test_a_google_link_refused_the_developer_token_names_it_and_reaches_the_admins(
        app, monkeypatch, client, session, logged_in, google) -> None:
    admin = make_user(session, is_admin=True)
    session.commit()
    monkeypatch.setitem(app.config, "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN", "expired-token")

    page = client.get(_consent(client, google), follow_redirects=True).text

    assert "was not linked" in page and "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN" in page
    assert _logins(session, Platform.GOOGLE_ADS) == []
    session.expire_all()
    notices = session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()
    assert [(n.category, n.code, n.occurrences) for n in notices] == [(2, 3, 1)]


def test_oauth_callback_with_wrong_missing_or_reused_state(client, session, logged_in,
                                                           google) -> None:
    callback = _consent(client, google)
    query = parse_qs(urlsplit(callback).query)
    forged = f"/oauth/google-ads/callback?code={query['code'][0]}&state=forged"
    page = client.get(forged, follow_redirects=True).text
    assert "could not be matched" in page
    assert client.get(callback, follow_redirects=True).text.count("could not be matched") == 1
    callback = _consent(client, google)
    missing = f"/oauth/google-ads/callback?code={parse_qs(urlsplit(callback).query)['code'][0]}"
    assert "could not be matched" in client.get(missing, follow_redirects=True).text
    assert _logins(session, Platform.GOOGLE_ADS) == []


def test_denied_consent_links_nothing(client, session, logged_in, google) -> None:
    google.deny_consent = True
    page = client.get(_consent(client, google), follow_redirects=True).text
    assert "you declined access" in page
    assert _logins(session, Platform.GOOGLE_ADS) == []


def test_platform_failure_during_oauth_link_links_nothing(client, session, logged_in,
                                                          google) -> None:
    callback = _consent(client, google)
    google.fail_next = [(500, {"internalError": "INTERNAL_ERROR"}, None)] * 5
    page = client.get(callback, follow_redirects=True).text
    assert "was not linked" in page and "failed on its side" in page
    assert _logins(session, Platform.GOOGLE_ADS) == []


def test_no_plaintext_token_in_the_database_or_logs(client, session, submit, logged_in, sklik,
                                                    google, caplog, database_url) -> None:
    caplog.set_level(logging.DEBUG)
    submit("/accounts/link/sklik", {"token": SKLIK_TOKEN})
    client.get(_consent(client, google))
    refresh_tokens = set(google.refresh_tokens)
    assert refresh_tokens and _logins(session, Platform.GOOGLE_ADS)
    secrets = [SKLIK_TOKEN, *refresh_tokens]
    dump = []
    with session.bind.connect() as connection:
        for table in Base.metadata.sorted_tables:
            dump.extend(str(row) for row in connection.execute(text(f"SELECT * FROM {table.name}")))
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for file in (path, Path(f"{path}-wal")):
            if file.exists():
                # Read by another process: closing a descriptor of the database file in this
                # process would drop every POSIX lock its SQLite connections hold (sqlite.org,
                # "How To Corrupt An SQLite Database File", 2.2), and a worker process could
                # then remove the WAL from under them.
                raw = subprocess.run(["cat", str(file)], capture_output=True, check=True).stdout
                dump.append(raw.decode("latin-1"))
    logs = caplog.text
    for secret in secrets:
        assert sum(secret in chunk for chunk in dump) == 0
        assert secret not in logs


def test_microsoft_oauth_flow_stores_the_rotated_refresh_token(client, session, logged_in, app,
                                                              monkeypatch, microsoft_stub) -> None:
    from ppc_robot.lib.credentials import Vault

    settings = microsoft_settings(microsoft_stub)
    for key in ("microsoft_customer_url", "microsoft_reporting_url", "microsoft_developer_token",
                "microsoft_oauth_authorize_url", "microsoft_oauth_token_url",
                "microsoft_client_id", "microsoft_client_secret"):
        monkeypatch.setitem(app.config, f"PPC_ROBOT_{key.upper()}", getattr(settings, key))
    microsoft_stub.redirect_uris.add("http://localhost/oauth/microsoft/callback")
    start = client.get("/accounts/link/microsoft/authorize")
    assert "code_challenge_method=S256" in start.headers["Location"]
    consent = httpx.get(start.headers["Location"], follow_redirects=False)
    back = urlsplit(consent.headers["Location"])
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 302
    (login,) = _logins(session, Platform.MICROSOFT)
    assert {a.external_id for a in login.client_accounts} == {"149006123", "149006124"}
    stored = Vault([app.config["PPC_ROBOT_CREDENTIALS_KEY"]]).decrypt_json(
        login.credentials_encrypted)
    assert stored["refresh_token"] in microsoft_stub.refresh_tokens  # the newest one
