"""The performance report run for real on the Sandbox platform, end to end through the runner."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from sqlalchemy import select

from ppc_robot.lib.models import (
    ClientAccountStatus,
    JobLevel,
    JobRun,
    Notification,
    OutputType,
    RunStatus,
)
from ppc_robot.lib.platforms import RemoteAccount, ReportRequest
from ppc_robot.lib.platforms.sandbox import SandboxClient
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import make_definition, make_job
from tests.support import runs as run_fixtures
from tests.support.runs import KEY, SCHEDULED

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox


@pytest.fixture
def settings(tmp_path):
    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY})


def run_report(session, factory, settings, user, accounts, *, version=2, output=OutputType.CSV, **parameters):
    pattern = parameters.pop("_pattern", "{job} {date}")
    options = default_parameters() | parameters if version == 2 else parameters
    definition = make_definition(session, user, version=version, output_type=output, parameters=options)
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague",
                   output_path=pattern)
    job.client_accounts = list(accounts)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()
    execute_run(factory, run.id, settings)
    session.expire_all()
    return session.get(JobRun, run.id)


def platform_truth(accounts, first, last):
    """Clicks and cost as the Sandbox platform itself reports them, summed by hand."""
    clicks, cost = 0, Decimal(0)
    for account in accounts:
        remote = RemoteAccount(account.external_id, account.name, account.currency, account.time_zone)
        for row in SandboxClient().fetch_report(ReportRequest(remote, first, last, ("date",))):
            clicks += row.clicks
            cost += row.cost
    return clicks, cost


def test_a_daily_report_over_two_accounts_matches_the_platforms_numbers(session, factory, settings, sandbox):
    user, _, accounts = sandbox
    same_currency = [a for a in accounts if a.currency == accounts[0].currency][:2]

    run = run_report(session, factory, settings, user, same_currency, dimensions=["date"],
                     metrics=["clicks", "cost", "cpc"], date_range="last_7_days")

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    table = pl.read_csv(run.output_file, encoding="utf8-lossy")
    assert table.height == run.rows == 7
    day_one = datetime(2026, 11, 18).date()
    clicks, cost = platform_truth(same_currency, day_one, day_one + timedelta(days=6))
    assert table["Clicks"].sum() == clicks
    assert Decimal(str(sum(Decimal(str(v)) for v in table["Cost"]))) == cost
    first = table.row(0, named=True)
    assert Decimal(str(first["Avg. CPC"])).quantize(Decimal("0.0001")) == (
        Decimal(str(first["Cost"])) / first["Clicks"]).quantize(Decimal("0.0001"))
    assert run.progress_done == run.progress_total == 2


def test_comparison_with_the_previous_period_adds_before_and_change_columns(session, factory, settings, sandbox):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:1], dimensions=["campaign"],
                     metrics=["clicks"], date_range="last_7_days", comparison="previous_period")

    table = pl.read_csv(run.output_file)
    assert list(table.columns) == ["Campaign", "Clicks", "Clicks (before)", "Clicks change", "Clicks change %"]
    row = table.row(0, named=True)
    assert row["Clicks change"] == row["Clicks"] - row["Clicks (before)"]


def test_a_removed_account_is_named_in_the_output_and_a_notification_and_the_rest_completes(
        session, factory, settings, sandbox):
    user, _, accounts = sandbox
    accounts[1].status = ClientAccountStatus.REMOVED
    session.commit()

    run = run_report(session, factory, settings, user, accounts[:2], output=OutputType.XLSX,
                     dimensions=["client_account"], metrics=["clicks"])

    assert run.status == RunStatus.SUCCEEDED
    assert accounts[1].name in run.error_message
    [notice] = session.scalars(select(Notification).where(Notification.run_id == run.id)).all()
    assert notice.client_account_id == accounts[1].id and accounts[1].name in notice.message
    assert run.output_file.endswith(".xlsx")


def test_a_definition_saved_as_version_1_still_runs(session, factory, settings, sandbox):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:1], version=1,
                     date_range="yesterday", dimensions=["account"])

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert pl.read_csv(run.output_file).columns[0] == "Client account"


def test_parameters_that_no_longer_validate_fail_the_run_with_the_reason(session, factory, settings, sandbox):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:1], metrics=["no_such_metric"])

    assert run.status == RunStatus.FAILED
    assert run.error_message.startswith("The report's settings are no longer valid:")
    assert session.scalar(select(Notification).where(Notification.run_id == run.id)) is not None


def test_an_output_name_with_path_characters_fails_the_run_in_words(session, factory, settings, sandbox):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:1], _pattern="../../etc/{job}")

    assert run.status == RunStatus.FAILED
    assert "may not contain" in run.error_message


def test_a_service_account_job_reads_every_account_resolved_at_run_time(session, factory, settings, sandbox):
    user, login, accounts = sandbox
    definition = make_definition(session, user, output_type=OutputType.CSV,
                                 parameters=default_parameters() | {"dimensions": ["client_account"],
                                                                    "metrics": ["clicks"]})
    job = make_job(session, user, definition=definition)
    job.level, job.service_account_id, job.all_client_accounts = JobLevel.SERVICE_ACCOUNT, login.id, True
    gone = accounts[-1]
    gone.status = ClientAccountStatus.REMOVED  # removed from the platform since the last sync
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()

    execute_run(factory, run.id, settings)

    session.expire_all()
    stored = session.get(JobRun, run.id)
    assert stored.status == RunStatus.SUCCEEDED, stored.error_message
    # Every account of the login now on the platform; the removed one is gone, not "missing".
    assert set(pl.read_csv(stored.output_file)["Client account"]) == {a.name for a in accounts[:-1]}
    assert stored.error_message is None  # no account reported missing
