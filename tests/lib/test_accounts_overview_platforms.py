"""The accounts overview against the Google Ads and Microsoft Advertising stand-ins: its numbers
are the platform's own sums per account to the cent, and a login that fails leaves its accounts
marked missing while the others are written."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import (
    AccountDay,
    ClientAccount,
    JobRun,
    OutputType,
    Platform,
    RunStatus,
)
from ppc_robot.lib.reports.accounts_overview import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import make_definition, make_job, make_user
from tests.stubs.google import CLIENT_ID, CLIENT_SECRET, DEVELOPER_TOKEN
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.platforms import google_settings, microsoft_settings
from tests.support.runs import KEY

google_stub = platform_fixtures.google_stub
microsoft_stub = platform_fixtures.microsoft_stub
factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
VAULT = Vault([KEY])
# The job's day is 3 August in Prague: yesterday is 2 August, the month so far 1–2 August.
SCHEDULED = datetime(2026, 8, 3, 6, 0, tzinfo=UTC)


def _runner(tmp_path, **config: object) -> RunnerSettings:
    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY,
                                      "PPC_ROBOT_RETRY_MAX_WAIT_SECONDS": "0", **config})


def _google_runner(tmp_path, stub) -> RunnerSettings:
    return _runner(tmp_path, PPC_ROBOT_GOOGLE_ADS_URL=stub.url,
                   PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN=DEVELOPER_TOKEN,
                   PPC_ROBOT_GOOGLE_OAUTH_TOKEN_URL=stub.url + "/token",
                   PPC_ROBOT_GOOGLE_CLIENT_ID=CLIENT_ID, PPC_ROBOT_GOOGLE_CLIENT_SECRET=CLIENT_SECRET)


def _microsoft_runner(tmp_path, settings) -> RunnerSettings:
    return _runner(tmp_path, **{f"PPC_ROBOT_{name.upper()}": getattr(settings, name) for name in (
        "microsoft_customer_url", "microsoft_reporting_url", "microsoft_developer_token",
        "microsoft_oauth_token_url", "microsoft_client_id", "microsoft_client_secret",
        "report_poll_interval_seconds")})


def _link(session, user, platform, stub, settings):
    login, _ = link_service_account(session, user, platform,
                                    {"refresh_token": stub.issue_refresh_token()}, vault=VAULT,
                                    settings=settings)
    session.commit()
    return login


def _account(session, login, external_id) -> ClientAccount:
    return session.scalars(select(ClientAccount).where(
        ClientAccount.service_account_id == login.id,
        ClientAccount.external_id == external_id)).one()


def _run_overview(session, factory, settings, user, accounts) -> JobRun:
    definition = make_definition(session, user, task_type="accounts_overview",
                                 output_type=OutputType.CSV, parameters=default_parameters())
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    job.client_accounts = list(accounts)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()
    execute_run(factory, run.id, settings)
    session.expire_all()
    return session.get_one(JobRun, run.id)


def _rows(run: JobRun) -> list[dict[str, str]]:
    with open(run.output_file, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _by_account(run: JobRun) -> dict[str, dict[str, str]]:
    return {r["Client account"]: r for r in _rows(run) if r["Row"] == "Account"}


def _figures(row: dict[str, str]) -> tuple[Decimal, ...]:
    return tuple(Decimal(row[c]) for c in ("Spend yesterday", "Spend last 7 days",
                                            "Spend month to date", "Conversions (month)",
                                            "Conversion value (month)"))


def test_google_ads_overview_equals_the_platforms_sums_to_the_cent(
        session, factory, tmp_path, google_stub):
    user = make_user(session)
    login = _link(session, user, Platform.GOOGLE_ADS, google_stub, google_settings(google_stub))
    account = _account(session, login, "1234567890")

    run = _run_overview(session, factory, _google_runner(tmp_path, google_stub), user, [account])

    assert run.status is RunStatus.SUCCEEDED, run.error_message
    row = _by_account(run)[account.name]
    # The stand-in's campaigns: 1 August 1 234.56 + 300.00, 2 August 1 011.200001 (micros).
    assert row["Currency"] == "CZK"
    assert _figures(row) == (Decimal("1011.20"), Decimal("2545.76"), Decimal("2545.76"),
                             Decimal("5.5000"), Decimal("6690.50"))
    stored = session.execute(select(func.sum(AccountDay.cost_micros)).where(
        AccountDay.client_account_id == account.id)).scalar_one()
    assert stored == 1234560000 + 300000000 + 1011200001  # the store keeps every micro


def test_microsoft_overview_equals_the_platforms_sums_to_the_cent(
        session, factory, tmp_path, microsoft_stub):
    user = make_user(session)
    settings = microsoft_settings(microsoft_stub)
    login = _link(session, user, Platform.MICROSOFT, microsoft_stub, settings)
    account = _account(session, login, "149006123")

    run = _run_overview(session, factory, _microsoft_runner(tmp_path, settings), user, [account])

    assert run.status is RunStatus.SUCCEEDED, run.error_message
    row = _by_account(run)[account.name]
    # 1 August 1 234.56 + 20.01, 2 August 1 011.20; conversions 3 + 0 and 2.5.
    assert row["Currency"] == "EUR"
    assert _figures(row) == (Decimal("1011.20"), Decimal("2265.77"), Decimal("2265.77"),
                             Decimal("5.5000"), Decimal("6690.50"))


def test_a_failing_login_marks_its_account_missing_and_the_others_are_written(
        session, factory, tmp_path, google_stub, sandbox):
    user, _, sandbox_accounts = sandbox
    login = _link(session, user, Platform.GOOGLE_ADS, google_stub, google_settings(google_stub))
    google_account = _account(session, login, "1234567890")
    google_stub.revoke(VAULT.decrypt_json(login.credentials_encrypted)["refresh_token"])
    google_stub.expire_access_tokens()

    run = _run_overview(session, factory, _google_runner(tmp_path, google_stub), user,
                        [google_account, *sandbox_accounts])

    assert run.status is RunStatus.PARTIAL, run.error_message
    assert google_account.name in run.error_message
    rows = _rows(run)
    written = {r["Client account"] for r in rows if r["Row"] == "Account"}
    assert written == {a.name for a in sandbox_accounts}
    assert google_account.name in rows[-1]["Row"] and rows[-1]["Row"].startswith("Partial report")
    assert session.scalar(select(func.count()).select_from(AccountDay).where(
        AccountDay.client_account_id == google_account.id)) == 0
    for account in sandbox_accounts:
        assert session.scalar(select(func.count()).select_from(AccountDay).where(
            AccountDay.client_account_id == account.id)) > 0
