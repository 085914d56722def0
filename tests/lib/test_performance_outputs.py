"""What the performance report's outputs say: partial runs in every format, a sheet per account."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ppc_robot.lib.models import ClientAccountStatus, OutputType, RunStatus
from tests.lib.test_performance_report import platform_truth, run_report
from tests.lib.test_performance_report import settings as settings  # noqa: F401 - fixture
from tests.support import runs as run_fixtures
from tests.support.xlsx import read_workbook

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox


def csv_rows(path: str, delimiter: str = ",") -> list[list[str]]:
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def test_a_partial_csv_ends_with_a_row_naming_the_missing_accounts(session, factory, settings, sandbox):
    user, _, accounts = sandbox
    accounts[1].status = ClientAccountStatus.REMOVED
    session.commit()

    run = run_report(session, factory, settings, user, accounts[:2], dimensions=["date", "campaign"],
                     metrics=["clicks", "cost"])

    rows = csv_rows(run.output_file)
    assert run.status == RunStatus.PARTIAL
    assert {len(row) for row in rows} == {4}  # every line has the header's cells: still a table
    assert rows[-1][0] == (f"Partial report: 1 client account(s) missing: “{accounts[1].name}” "
                           "(the account no longer exists on the platform)")
    assert rows[-1][1:] == ["", "", ""]
    assert len(rows) == run.rows + 2  # header, data rows, the note


def test_a_whole_csv_has_no_note(session, factory, settings, sandbox):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:2], dimensions=["campaign"],
                     metrics=["clicks"])

    rows = csv_rows(run.output_file)
    assert run.status == RunStatus.SUCCEEDED and run.error_message is None
    assert len(rows) == run.rows + 1
    assert not any(row[0].startswith("Partial report") for row in rows)


def test_one_sheet_per_account_without_the_account_dimension(session, factory, settings, sandbox):
    user, _, accounts = sandbox
    chosen = accounts[:3]

    run = run_report(session, factory, settings, user, chosen, output=OutputType.XLSX,
                     dimensions=["date"], metrics=["clicks"], date_range="last_7_days",
                     sheets="per_account", sort_by="date", sort_order="asc")

    workbook = read_workbook(Path(run.output_file))
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert sorted(workbook) == sorted(a.name for a in chosen)
    for account in chosen:
        sheet = workbook[account.name]
        assert sheet[0] == ["Date", "Clicks"]  # the tab names the account: no column for it
        days = [row for row in sheet[1:] if row and row[0].isdigit()]
        assert len(days) == 7
        first, last = days[0][0], days[-1][0]  # Excel day numbers, ascending
        assert int(first) < int(last)
        clicks, _ = platform_truth([account], *_week(run))
        assert sum(int(row[1]) for row in days) == clicks


def _week(run):
    from datetime import timedelta

    last = run.scheduled_at.date() - timedelta(days=1)
    return last - timedelta(days=6), last


@pytest.mark.parametrize("output", [OutputType.CSV])
def test_one_sheet_per_account_in_a_single_table_output_names_the_account_in_a_column(
        session, factory, settings, sandbox, output):
    user, _, accounts = sandbox

    run = run_report(session, factory, settings, user, accounts[:2], output=output,
                     dimensions=["date"], metrics=["clicks"], sheets="per_account")

    rows = csv_rows(run.output_file)
    assert rows[0] == ["Date", "Client account", "Currency", "Clicks"]  # CZK and EUR
    assert {row[1] for row in rows[1:]} == {accounts[0].name, accounts[1].name}
