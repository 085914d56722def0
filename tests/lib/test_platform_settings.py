"""Refusals of the installation's own platform settings: the run fails naming the setting, the
user's login is left as it is, and the admins hear of it on their health page."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from ppc_robot.lib.accounts import link_service_account, sync_service_account
from ppc_robot.lib.admin import settings_problems
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import (
    JobRun,
    Notification,
    OutputType,
    Platform,
    RunStatus,
    ServiceAccountStatus,
)
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import make_definition, make_job, make_user
from tests.stubs.google import DEVELOPER_TOKEN, GoogleStub
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.platforms import google_settings
from tests.support.runs import KEY, SCHEDULED

google_stub = platform_fixtures.google_stub
factory = run_fixtures.factory
VAULT = Vault([KEY])


def _linked(session, stub: GoogleStub):
    user = make_user(session)
    login, _ = link_service_account(session, user, Platform.GOOGLE_ADS,
                                    {"refresh_token": stub.issue_refresh_token()},
                                    vault=VAULT, settings=google_settings(stub))
    session.commit()
    return user, login


def _notifications(session, user) -> list[str]:
    return [n.message_template.split(" ")[0] + f" {n.category}:{n.code}"
            for n in session.scalars(select(Notification).where(Notification.user_id == user.id)
                                     .order_by(Notification.id))]


def _run_config(stub: GoogleStub, **overrides: str) -> dict[str, str]:
    config = {"PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_GOOGLE_ADS_URL": stub.url,
              "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN": DEVELOPER_TOKEN,
              "PPC_ROBOT_GOOGLE_OAUTH_TOKEN_URL": stub.url + "/token",
              "PPC_ROBOT_GOOGLE_CLIENT_ID": google_settings(stub).google_client_id,
              "PPC_ROBOT_GOOGLE_CLIENT_SECRET": google_settings(stub).google_client_secret,
              "PPC_ROBOT_RETRY_ATTEMPTS": "1", "PPC_ROBOT_RETRY_MAX_WAIT_SECONDS": "0"}
    return config | overrides


def _run(session, factory, tmp_path, user, accounts, config) -> JobRun:
    definition = make_definition(session, user, version=2, output_type=OutputType.CSV, parameters=(
        default_parameters() | {"dimensions": ["date"], "metrics": ["clicks"],
                                "date_range": "custom", "date_from": "2026-08-01",
                                "date_to": "2026-08-02"}))
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    job.client_accounts = list(accounts)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                              app_config=config)
    execute_run(factory, run.id, settings)
    session.expire_all()
    return session.get_one(JobRun, run.id)


def test_a_run_refused_the_developer_token_fails_naming_it_and_leaves_the_login(
        session, factory, tmp_path, google_stub: GoogleStub) -> None:
    admin = make_user(session, is_admin=True)
    user, login = _linked(session, google_stub)
    client = next(a for a in login.client_accounts if a.external_id == "1234567890")
    config = _run_config(google_stub, PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN="revoked-token")

    run = _run(session, factory, tmp_path, user, [client], config)

    assert run.status is RunStatus.FAILED
    assert run.error_class == "configuration"
    assert "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN" in (run.error_message or "")
    assert "DEVELOPER_TOKEN_INVALID" in (run.error_message or "")
    assert login.status is ServiceAccountStatus.VALID
    assert _notifications(session, user) == ["Report 1:0"]  # the failed report, no expired login
    assert _notifications(session, admin) == ["{platform} 2:3"]
    [problem] = settings_problems(session)
    assert (problem.platform, problem.setting) == (
        "Google Ads", "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN")


def test_a_run_refused_the_api_version_names_the_version_setting(
        session, factory, tmp_path, google_stub: GoogleStub) -> None:
    user, login = _linked(session, google_stub)
    google_stub.sunset_versions = {"v25"}

    run = _run(session, factory, tmp_path, user, login.client_accounts[:1], _run_config(
        google_stub))

    assert run.status is RunStatus.FAILED and run.error_class == "configuration"
    assert "PPC_ROBOT_GOOGLE_ADS_VERSION" in (run.error_message or "")
    assert login.status is ServiceAccountStatus.VALID


def test_a_sync_refused_the_oauth_client_leaves_the_login_and_tells_the_admins_once(
        session, google_stub: GoogleStub) -> None:
    admin = make_user(session, is_admin=True)
    user, login = _linked(session, google_stub)
    google_stub.expire_access_tokens()
    wrong = replace(google_settings(google_stub), google_client_secret="rotated-away")

    for _ in range(2):
        result = sync_service_account(session, login, vault=VAULT, settings=wrong)
        assert not result.ok and "PPC_ROBOT_GOOGLE_CLIENT_SECRET" in (result.error or "")
    session.commit()

    assert login.status is ServiceAccountStatus.VALID
    assert "PPC_ROBOT_GOOGLE_CLIENT_ID" in (login.last_error or "")
    assert _notifications(session, user) == []
    [notice] = session.scalars(select(Notification).where(Notification.user_id == admin.id))
    assert notice.occurrences == 2 and notice.resolved_at is None
    assert [p.setting for p in settings_problems(session)] == [
        "PPC_ROBOT_GOOGLE_CLIENT_ID and PPC_ROBOT_GOOGLE_CLIENT_SECRET"]

    assert sync_service_account(session, login, vault=VAULT,
                                settings=google_settings(google_stub)).ok
    session.commit()

    assert settings_problems(session) == []


def test_a_revoked_grant_still_marks_the_login(session, google_stub: GoogleStub) -> None:
    admin = make_user(session, is_admin=True)
    user, login = _linked(session, google_stub)
    google_stub.expire_access_tokens()
    google_stub.revoke(VAULT.decrypt_json(login.credentials_encrypted)["refresh_token"])

    result = sync_service_account(session, login, vault=VAULT, settings=google_settings(google_stub))

    assert not result.ok and login.status is ServiceAccountStatus.REVOKED
    assert _notifications(session, admin) == [] and settings_problems(session) == []
