"""The performance report run for real on the Sandbox platform, end to end through the runner."""

from __future__ import annotations

import csv
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import (
    ClientAccountStatus,
    JobLevel,
    JobRun,
    Notification,
    OutputType,
    Platform,
    RunStatus,
)
from ppc_robot.lib.platforms import RemoteAccount, ReportRequest
from ppc_robot.lib.platforms.sandbox import SandboxClient
from ppc_robot.lib.reports import performance_run, performance_table
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.reports.shared import outputs
from ppc_robot.lib.runner import RunnerSettings, execute_run
from ppc_robot.lib.runs import preview_name
from tests.factories import make_definition, make_job
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.platforms import SKLIK_TOKEN, stub_settings
from tests.support.runs import KEY, SCHEDULED

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
sklik_stub = platform_fixtures.sklik_stub


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
    cpc = Decimal(str(first["Avg. CPC"]))
    assert cpc == cpc.quantize(Decimal("0.01"))  # money in the CSV: to the cent
    assert abs(cpc - Decimal(str(first["Cost"])) / first["Clicks"]) <= Decimal("0.01")
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

    assert run.status == RunStatus.PARTIAL
    assert run.job.last_run_status == RunStatus.PARTIAL
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


def outputs_of(run):
    """The run's output file (XLSX members but the timestamped docProps) and preview, to compare."""
    path = Path(run.output_file)
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as workbook:
            content = {n: workbook.read(n) for n in workbook.namelist() if not n.startswith("docProps/")}
    else:
        content = path.read_bytes()
    return content, (path.parent / preview_name(run.id)).read_text(encoding="utf-8")


@pytest.mark.parametrize("output, extra", [
    (OutputType.CSV, {"comparison": "previous_period", "sort_by": "cpa"}),
    (OutputType.XLSX, {"sheets": "per_account", "sort_by": "date", "sort_order": "asc"}),
])
def test_a_report_computed_in_many_small_parts_equals_the_report_computed_whole(
        session, factory, settings, sandbox, monkeypatch, output, extra):
    user, _, accounts = sandbox
    parameters = {"dimensions": ["date", "client_account", "campaign", "device"], "metrics": [
        "impressions", "clicks", "cost", "conversions", "conversion_value", "ctr", "cpc", "cpm",
        "conversion_rate", "cpa", "roas", "pno"], "date_range": "last_30_days"} | extra
    whole = run_report(session, factory, settings, user, accounts[:3], output=output, **parameters)
    monkeypatch.setattr(performance_run, "CHUNK_ROWS", 50)
    monkeypatch.setattr(performance_table, "PART_ROWS", 40)  # ties and nulls split further

    parts = run_report(session, factory, settings, user, accounts[:3], output=output, **parameters)

    assert whole.status == parts.status == RunStatus.SUCCEEDED, parts.error_message
    assert whole.rows == parts.rows > 5 * performance_table.PART_ROWS
    assert outputs_of(parts) == outputs_of(whole)


def test_rows_come_in_the_sort_order_with_ties_in_the_order_of_the_dimensions(
        session, factory, settings, sandbox, monkeypatch):
    user, _, accounts = sandbox
    monkeypatch.setattr(performance_table, "PART_ROWS", 50)

    run = run_report(session, factory, settings, user, accounts, dimensions=["date", "device"],
                     metrics=["clicks", "conversions"], date_range="last_30_days",
                     sort_by="conversions", sort_order="desc")

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    with Path(run.output_file).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == run.rows == 30 * 3 * 2  # days, devices, currencies
    assert len({r["Conversions"] for r in rows}) < len(rows)  # there are ties to break
    # Two currencies: each currency's rows in order, never ranked as one.
    assert rows == sorted(rows, key=lambda r: (r["Currency"], -Decimal(r["Conversions"]), r["Date"],
                                               r["Device"]))


def test_sorting_by_a_time_dimension_the_report_does_not_show_orders_by_its_rows(
        session, factory, settings, sandbox):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:2], dimensions=["campaign"],
                     metrics=["clicks"], date_range="last_7_days", sort_by="date")

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    table = pl.read_csv(run.output_file)
    rows = list(zip(table.get_column("Currency", default=pl.Series([""] * table.height)),
                    table["Campaign"], strict=True))
    assert rows == sorted(rows) and len(rows) == run.rows > 1  # by campaign within each currency


def test_xlsx_gets_the_floats_python_makes_of_the_decimals():
    amounts = [Decimal("0.000005"), Decimal("-0.000005"), Decimal("123456.789012"),
               Decimal("0.100000"), Decimal("9007199254.740991"), Decimal("-9007199254.740991"),
               None]
    huge = amounts + [Decimal("12345678901234567.890123")]  # past 2^53 micros: the Decimal path
    for values in (amounts, huge):
        frame = pl.DataFrame({"cost": values, "clicks": list(range(len(values)))},
                             schema={"cost": pl.Decimal(38, 6), "clicks": pl.Int64})

        rows = list(outputs.xlsx_rows(frame, ["cost", "clicks"]))

        assert [float(r[0]) if r[0] is not None else None for r in rows] == [
            float(v) if v is not None else None for v in values]
        assert {type(r[0]) for r in rows if r[0] is not None} == {float if values is amounts else Decimal}


def test_a_period_fetched_again_after_a_failure_midway_counts_its_rows_once(
        session, factory, sandbox, sklik_stub, tmp_path, monkeypatch):
    user, _, _ = sandbox
    login, _ = link_service_account(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                                    vault=Vault([KEY]), settings=stub_settings(sklik_url=sklik_stub.base_url))
    session.commit()
    [account] = [a for a in login.client_accounts if a.external_id == "132256"]
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2, app_config={
        "PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_SKLIK_URL": sklik_stub.base_url,
        "PPC_ROBOT_RETRY_ATTEMPTS": "1", "PPC_ROBOT_RETRY_MAX_WAIT_SECONDS": "0"})
    sklik_stub.stats_data_limit = 31  # a campaign per page: three pages for August
    sklik_stub.fail_calls["campaigns.readReport"] = [None, "garbage"]  # the second page fails once
    monkeypatch.setattr(performance_run, "CHUNK_ROWS", 10)  # the first page already spilled

    run = run_report(session, factory, settings, user, [account], dimensions=["date", "campaign"],
                     metrics=["clicks"], date_range="custom", date_from="2026-08-01", date_to="2026-08-31")

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert sum(r.path.endswith("readReport") for r in sklik_stub.requests) == 1 + 1 + 3
    table = pl.read_csv(run.output_file)
    assert table.height == run.rows == 31 * 3
    assert table["Clicks"].sum() == 3 * sum(10 + i for i in range(31))


def test_chunks_of_a_failed_attempt_are_removed_from_the_spill(tmp_path):
    spill = performance_table.Spill(tmp_path / "rows")
    kept = spill.write(pl.DataFrame({"clicks": [1, 2]}))
    failed = [spill.write(pl.DataFrame({"clicks": [3]})), spill.write(pl.DataFrame({"clicks": [4]}))]

    spill.discard(failed)

    assert sorted((tmp_path / "rows").iterdir()) == [kept.path]
    assert pl.read_ipc(kept.path)["clicks"].to_list() == [1, 2]


def test_the_work_folder_is_gone_after_the_run_whether_it_succeeded_or_failed(
        session, factory, settings, sandbox):
    user, _, accounts = sandbox

    done = run_report(session, factory, settings, user, accounts[:1])
    failed = run_report(session, factory, settings, user, accounts[:1], _pattern="../{job}")

    assert (done.status, failed.status) == (RunStatus.SUCCEEDED, RunStatus.FAILED)
    assert list((settings.outputs_dir / ".work").iterdir()) == []
