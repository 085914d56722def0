"""The performance run's fetch through real adapters and their stand-ins: what a run asks the
platform for, stored access tokens, quota counting and calls in flight."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ppc_robot.lib.accounts import link_service_account, store_refreshed_credentials
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import (
    ClientAccount,
    JobRun,
    Notification,
    OutputType,
    Platform,
    PlatformQuota,
    RunStatus,
    ServiceAccount,
    ServiceAccountStatus,
    User,
)
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import make_definition, make_job, make_user
from tests.stubs.google import CLIENT_ID, CLIENT_SECRET, DEVELOPER_TOKEN, Customer, GoogleStub
from tests.stubs.microsoft import MicrosoftStub
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.platforms import google_settings, microsoft_settings
from tests.support.runs import KEY, SCHEDULED

google_stub = platform_fixtures.google_stub
microsoft_stub = platform_fixtures.microsoft_stub
factory = run_fixtures.factory
VAULT = Vault([KEY])
AUGUST = {"date_range": "custom", "date_from": "2026-08-01", "date_to": "2026-08-02"}


def _runner(tmp_path, **config: object) -> RunnerSettings:
    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY,
                                      "PPC_ROBOT_RETRY_MAX_WAIT_SECONDS": "0", **config})


def _microsoft_runner(tmp_path, settings) -> RunnerSettings:
    return _runner(tmp_path, **{f"PPC_ROBOT_{name.upper()}": getattr(settings, name) for name in (
        "microsoft_customer_url", "microsoft_reporting_url", "microsoft_developer_token",
        "microsoft_oauth_token_url", "microsoft_client_id", "microsoft_client_secret",
        "report_poll_interval_seconds")})


def _google_runner(tmp_path, stub: GoogleStub, **options: object) -> RunnerSettings:
    settings = _runner(tmp_path, PPC_ROBOT_GOOGLE_ADS_URL=stub.url,
                       PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN=DEVELOPER_TOKEN,
                       PPC_ROBOT_GOOGLE_OAUTH_TOKEN_URL=stub.url + "/token",
                       PPC_ROBOT_GOOGLE_CLIENT_ID=CLIENT_ID,
                       PPC_ROBOT_GOOGLE_CLIENT_SECRET=CLIENT_SECRET)
    return replace(settings, **options)


def _link_google(session: Session, user: User, stub: GoogleStub) -> ServiceAccount:
    login, _ = link_service_account(session, user, Platform.GOOGLE_ADS,
                                    {"refresh_token": stub.issue_refresh_token()}, vault=VAULT,
                                    settings=google_settings(stub))
    session.commit()
    return login


def _accounts(session: Session, login: ServiceAccount) -> list[ClientAccount]:
    return list(session.scalars(select(ClientAccount).where(
        ClientAccount.service_account_id == login.id).order_by(ClientAccount.external_id)))


def _run(session: Session, factory, settings: RunnerSettings, user: User,
         accounts: list[ClientAccount]) -> tuple[str, JobRun]:
    definition = make_definition(session, user, version=2, output_type=OutputType.CSV,
                                 parameters=default_parameters() | AUGUST)
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    job.client_accounts = list(accounts)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()
    outcome = execute_run(factory, run.id, settings)
    session.expire_all()
    return outcome, session.get_one(JobRun, run.id)


def _paths(stub: GoogleStub | MicrosoftStub, since: int) -> list[str]:
    return [r.path for r in stub.requests[since:]]


def test_a_run_after_linking_asks_for_no_token_and_walks_no_hierarchy(
        session, factory, tmp_path, google_stub: GoogleStub) -> None:
    user = make_user(session)
    login = _link_google(session, user, google_stub)
    accounts = [a for a in _accounts(session, login) if a.external_id in ("1234567890",
                                                                           "5556667777")]
    since = len(google_stub.requests)

    outcome, run = _run(session, factory, _google_runner(tmp_path, google_stub), user, accounts)

    assert outcome == "succeeded" and run.rows == 3  # the deep client has no campaigns
    assert sorted(_paths(google_stub, since)) == [
        "/v25/customers/1234567890/googleAds:searchStream",
        "/v25/customers/5556667777/googleAds:searchStream"]
    assert all("customer_client" not in r.body.decode() for r in google_stub.requests[since:])
    assert [a.platform_extra for a in accounts] == [{"login_customer_id": "1112223333"}] * 2
    used = session.scalars(select(PlatformQuota.used).where(
        PlatformQuota.service_account_id == login.id, PlatformQuota.period == "day")).one()
    assert used == 2  # counted ahead for the run, and the unused given back: none here


def test_a_refused_stored_token_is_refreshed_once_and_stored_encrypted(
        session, factory, tmp_path, google_stub: GoogleStub) -> None:
    user = make_user(session)
    login = _link_google(session, user, google_stub)
    google_stub.expire_access_tokens()  # Google refuses the token stored at linking
    since = len(google_stub.requests)

    outcome, run = _run(session, factory, _google_runner(tmp_path, google_stub), user,
                        _accounts(session, login))
    session.refresh(login)
    stored = VAULT.decrypt_json(login.credentials_encrypted)

    # Partial: the manager "Empty MCC" has no metrics of its own and is left out.
    assert outcome == "partial" and run.error_message.startswith("Empty MCC"), run.error_message
    assert _paths(google_stub, since).count("/token") == 1
    assert stored["access_token"] in google_stub.access_tokens
    row = session.execute(text("SELECT * FROM robot_service_accounts WHERE id = :id"),
                          {"id": login.id}).one()
    assert not any(stored["access_token"] in str(value) for value in row)  # never in plaintext
    assert stored["access_token"] not in (run.log or "") + (run.error_message or "")

    since = len(google_stub.requests)
    outcome, _ = _run(session, factory, _google_runner(tmp_path, google_stub), user,
                      _accounts(session, login))
    assert outcome == "partial" and "/token" not in _paths(google_stub, since)


def test_a_revoked_login_fails_the_run_after_one_token_call(
        session, factory, tmp_path, google_stub: GoogleStub) -> None:
    user = make_user(session)
    login = _link_google(session, user, google_stub)
    google_stub.revoke(VAULT.decrypt_json(login.credentials_encrypted)["refresh_token"])
    google_stub.expire_access_tokens()
    since = len(google_stub.requests)

    outcome, run = _run(session, factory, _google_runner(tmp_path, google_stub), user,
                        _accounts(session, login))
    session.refresh(login)

    assert outcome == "failed" and run.status is RunStatus.FAILED
    assert run.error_class == "authentication"
    assert _paths(google_stub, since).count("/token") == 1
    assert login.status is ServiceAccountStatus.REVOKED
    notifications = session.scalars(select(Notification).where(
        Notification.service_account_id == login.id)).all()
    assert any("revoked" in n.message for n in notifications)


def test_accounts_synced_before_the_manager_was_stored_walk_the_hierarchy_once(
        session, factory, tmp_path, google_stub: GoogleStub) -> None:
    user = make_user(session)
    login = _link_google(session, user, google_stub)
    accounts = _accounts(session, login)
    for account in accounts:
        account.platform_extra = {}  # as rows from before migration 0008 are
    session.commit()
    since = len(google_stub.requests)

    outcome, run = _run(session, factory, _google_runner(tmp_path, google_stub), user, accounts)

    assert outcome == "partial" and run.error_message.startswith("Empty MCC"), run.error_message
    made = _paths(google_stub, since)
    assert made.count("/v25/customers:listAccessibleCustomers") == 1
    assert "/token" not in made


def test_no_more_calls_are_in_flight_than_the_concurrency(
        session, factory, tmp_path, google_stub: GoogleStub) -> None:
    children = [f"30000000{n:02}" for n in range(9)]
    google_stub.customers["1112223333"].children += children
    for n, customer in enumerate(children):
        google_stub.add(Customer(customer, f"Shop {n}", campaigns={
            "Brand": [(date(2026, 8, 1), 100, 10, 1000000, 1.0, 10.0)]}))
    user = make_user(session)
    login = _link_google(session, user, google_stub)
    accounts = [a for a in _accounts(session, login) if a.external_id in children]
    google_stub.latency = 0.05
    google_stub.most_in_flight = 0
    since = len(google_stub.requests)

    outcome, run = _run(session, factory, _google_runner(tmp_path, google_stub,
                                                         account_concurrency=3), user, accounts)

    assert outcome == "succeeded" and run.error_message is None
    assert len(_paths(google_stub, since)) == 9
    assert 1 < google_stub.most_in_flight <= 3


def test_a_microsoft_run_stores_the_rotated_refresh_token_and_the_next_run_reuses_the_access_token(
        session, factory, tmp_path, microsoft_stub: MicrosoftStub) -> None:
    user = make_user(session)
    settings = microsoft_settings(microsoft_stub)
    login, _ = link_service_account(session, user, Platform.MICROSOFT,
                                    {"refresh_token": microsoft_stub.issue_refresh_token()},
                                    vault=VAULT, settings=settings)
    session.commit()
    linked = VAULT.decrypt_json(login.credentials_encrypted)
    accounts = _accounts(session, login)
    assert len(accounts) == 2  # two threads share the login, and the refresh
    runner = _microsoft_runner(tmp_path, settings)
    microsoft_stub.expire_access_tokens()
    since = len(microsoft_stub.requests)

    outcome, run = _run(session, factory, runner, user, accounts)
    session.refresh(login)
    rotated = VAULT.decrypt_json(login.credentials_encrypted)

    assert outcome == "succeeded" and run.error_message is None
    assert [p for p in _paths(microsoft_stub, since) if "CustomerManagement" in p] == []
    # one refresh: a second one with the rotated-away refresh token would be refused
    assert len([p for p in _paths(microsoft_stub, since) if p.endswith("/token")]) == 1
    assert rotated["refresh_token"] != linked["refresh_token"]
    assert rotated["refresh_token"] in microsoft_stub.refresh_tokens
    since = len(microsoft_stub.requests)
    outcome, _ = _run(session, factory, runner, user, accounts)
    assert outcome == "succeeded"
    assert not [p for p in _paths(microsoft_stub, since) if p.endswith("/token")]


def test_a_rotated_refresh_token_is_stored_before_the_report_is_asked_for(
        session, factory, tmp_path, microsoft_stub: MicrosoftStub) -> None:
    # Microsoft may retire the old refresh token as soon as it issues a new one: if the worker
    # died after the refresh, only a token stored at once would keep the login working.
    user = make_user(session)
    settings = microsoft_settings(microsoft_stub)
    login, _ = link_service_account(session, user, Platform.MICROSOFT,
                                    {"refresh_token": microsoft_stub.issue_refresh_token()},
                                    vault=VAULT, settings=settings)
    session.commit()
    linked = VAULT.decrypt_json(login.credentials_encrypted)["refresh_token"]
    accounts = _accounts(session, login)[:1]
    runner = _microsoft_runner(tmp_path, settings)
    microsoft_stub.expire_access_tokens()
    login_id = login.id
    stored_at_submit: list[str] = []

    def look_at_the_database(request) -> None:
        if request.path.endswith("/Submit"):
            with factory() as other:
                encrypted = other.get_one(ServiceAccount, login_id).credentials_encrypted
                stored_at_submit.append(VAULT.decrypt_json(encrypted)["refresh_token"])

    microsoft_stub.on_request = look_at_the_database

    outcome, _ = _run(session, factory, runner, user, accounts)

    assert outcome == "succeeded"
    # The expired access token was refused at the first Submit; by the Submit made after the
    # refresh, the rotated refresh token was already in the database.
    assert len(stored_at_submit) == 2
    assert stored_at_submit[0] == linked
    assert stored_at_submit[1] != linked and stored_at_submit[1] in microsoft_stub.refresh_tokens


def test_refreshed_credentials_never_replace_newer_ones(session, google_stub: GoogleStub) -> None:
    user = make_user(session)
    login = _link_google(session, user, google_stub)
    read = VAULT.decrypt_json(login.credentials_encrypted)
    refreshed = read | {"access_token": "ya29.refreshed-in-a-run"}
    newer = {"refresh_token": google_stub.issue_refresh_token()}  # linked again meanwhile
    login.credentials_encrypted = VAULT.encrypt_json(newer)
    session.commit()

    kept = store_refreshed_credentials(session, login, VAULT, refreshed, read=read)
    stored_after_relink = VAULT.decrypt_json(login.credentials_encrypted)
    replaced = store_refreshed_credentials(session, login, VAULT, newer | {"access_token": "x"},
                                           read=newer)

    assert (kept, replaced) == (False, True)
    assert stored_after_relink == newer
    assert VAULT.decrypt_json(login.credentials_encrypted)["access_token"] == "x"
