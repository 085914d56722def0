"""Google Sheets output against a stand-in Sheets API, with tokens from the stand-in Google OAuth."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import (
    Job,
    JobRun,
    Notification,
    OutputType,
    Platform,
    RunStatus,
    ServiceAccount,
)
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import make_definition, make_job
from tests.stubs.google import CLIENT_ID, CLIENT_SECRET
from tests.stubs.sheets import SheetsStub
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.runs import KEY, SCHEDULED

google_stub = platform_fixtures.google_stub
factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
SPREADSHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.fixture
def sheets(google_stub) -> Iterator[SheetsStub]:
    stub = SheetsStub(lambda token: token in google_stub.access_tokens).start()
    stub.create(SPREADSHEET, "Notes")
    yield stub
    stub.stop()


@pytest.fixture
def settings(tmp_path, google_stub, sheets):
    return RunnerSettings(outputs_dir=tmp_path, heartbeat_seconds=0.2, app_config={
        "PPC_ROBOT_CREDENTIALS_KEY": KEY,
        "PPC_ROBOT_GOOGLE_OAUTH_TOKEN_URL": google_stub.url + "/token",
        "PPC_ROBOT_GOOGLE_CLIENT_ID": CLIENT_ID, "PPC_ROBOT_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "PPC_ROBOT_GOOGLE_SHEETS_URL": sheets.url, "PPC_ROBOT_RETRY_MAX_WAIT_SECONDS": "0",
    })


@pytest.fixture
def sheet_job(session, sandbox, google_stub):
    user, _, accounts = sandbox
    session.add(ServiceAccount(user_id=user.id, platform=Platform.GOOGLE_ADS, external_id="1112223333",
                               name="Agency MCC", credentials_encrypted=Vault([KEY]).encrypt_json(
                                   {"refresh_token": google_stub.issue_refresh_token()})))
    definition = make_definition(session, user, version=2, output_type=OutputType.GOOGLE_SHEETS,
                                 parameters=default_parameters() | {"dimensions": ["campaign"],
                                                                    "metrics": ["clicks", "cost"]})
    job = make_job(session, user, definition=definition, output_path=SPREADSHEET)
    job.client_accounts = accounts[:1]
    session.commit()
    return job


def run_once(session, factory, settings, job, hours=0):
    from datetime import timedelta

    run = JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=SCHEDULED + timedelta(hours=hours))
    session.add(run)
    session.commit()
    execute_run(factory, run.id, settings)
    session.expire_all()
    return session.get(JobRun, run.id)


def test_the_report_is_written_to_the_spreadsheet_and_updated_in_place(session, factory, settings, sheets, sheet_job):
    first = run_once(session, factory, settings, sheet_job)
    rows_after_first = [list(r) for r in sheets.spreadsheets[SPREADSHEET]["Performance"]]
    second = run_once(session, factory, settings, sheet_job, hours=24)

    assert first.status == second.status == RunStatus.SUCCEEDED, first.error_message
    book = sheets.spreadsheets[SPREADSHEET]
    assert list(book) == ["Notes", "Performance"]  # the tab was added once, then reused
    assert book["Performance"][0] == ["Campaign", "Clicks", "Cost"]
    assert len(book["Performance"]) == len(rows_after_first)
    assert first.output_file == f"https://docs.google.com/spreadsheets/d/{SPREADSHEET}/edit"
    assert session.get(Job, sheet_job.id).output_state == {
        "spreadsheet_id": SPREADSHEET, "tab": "Performance", "spreadsheet_url": first.output_file}
    assert all(isinstance(r[1], int) for r in book["Performance"][1:first.rows + 1])


def test_a_spreadsheet_that_does_not_exist_fails_the_run_with_a_notification(session, factory, settings, sheet_job):
    sheet_job.output_path = "1ThisSpreadsheetDoesNotExist000000"
    session.commit()

    run = run_once(session, factory, settings, sheet_job)

    assert run.status == RunStatus.FAILED
    assert run.error_message == ("The Google spreadsheet “1ThisSpreadsheetDoesNotExist000000” does not exist "
                                 "or is not shared with the Google login “Agency MCC”.")
    assert session.scalar(select(Notification).where(Notification.run_id == run.id)) is not None


def test_a_spreadsheet_not_shared_with_the_login_is_refused_in_words(session, factory, settings, sheets, sheet_job):
    sheets.create("1NotSharedWithThisLogin0000000000", shared=False)
    sheet_job.output_path = "1NotSharedWithThisLogin0000000000"
    session.commit()

    run = run_once(session, factory, settings, sheet_job)

    assert run.status == RunStatus.FAILED and "is not shared" in run.error_message
    assert "1NotSharedWithThisLogin0000000000" in sheets.spreadsheets


def test_a_busy_sheets_api_is_retried_by_the_runner(session, factory, settings, sheets, sheet_job):
    sheets.busy = 1

    first = run_once(session, factory, settings, sheet_job)
    second_attempt = execute_run(factory, first.id, settings)

    assert first.status == RunStatus.QUEUED and first.error_class == "transient"
    assert second_attempt == "succeeded"


def test_an_empty_spreadsheet_field_makes_the_first_run_create_one_and_later_runs_update_it(
        session, factory, settings, sheets, sheet_job):
    sheet_job.output_path = ""
    session.commit()

    first = run_once(session, factory, settings, sheet_job)
    state = dict(session.get(Job, sheet_job.id).output_state)
    second = run_once(session, factory, settings, sheet_job, hours=24)

    assert first.status == second.status == RunStatus.SUCCEEDED, first.error_message
    [created] = [i for i in sheets.spreadsheets if i != SPREADSHEET]  # one new spreadsheet, no more
    assert sheets.titles[created] == sheet_job.name
    assert list(sheets.spreadsheets[created]) == ["Performance"]
    assert sheets.spreadsheets[created]["Performance"][0] == ["Campaign", "Clicks", "Cost"]
    url = f"https://docs.google.com/spreadsheets/d/{created}/edit"
    assert first.output_file == second.output_file == url
    assert state == {"created_spreadsheet_id": created, "spreadsheet_id": created, "tab": "Performance",
                     "spreadsheet_url": url}
    [create] = [r for r in sheets.requests if r.method == "POST" and r.path == "/v4/spreadsheets"]
    assert create.json() == {"properties": {"title": sheet_job.name},
                             "sheets": [{"properties": {"title": "Performance"}}]}


def test_a_login_that_may_not_create_spreadsheets_fails_the_run_in_words(session, factory, settings, sheets, sheet_job):
    sheet_job.output_path = ""
    session.commit()
    sheets.refuse_create = True  # the grant lacks the Sheets scope

    run = run_once(session, factory, settings, sheet_job)

    assert run.status == RunStatus.FAILED
    assert run.error_message.startswith("The Google login “Agency MCC” may not create spreadsheets")
    assert session.get(Job, sheet_job.id).output_state == {}


def test_a_created_spreadsheet_deleted_since_is_created_again(session, factory, settings, sheets, sheet_job):
    sheet_job.output_path = ""
    session.commit()
    first = run_once(session, factory, settings, sheet_job)
    gone = session.get(Job, sheet_job.id).output_state["created_spreadsheet_id"]
    del sheets.spreadsheets[gone]  # the user deleted it in Google Drive

    second = run_once(session, factory, settings, sheet_job, hours=24)

    session.expire_all()
    state = session.get(Job, sheet_job.id).output_state
    assert first.status == second.status == RunStatus.SUCCEEDED, second.error_message
    assert state["created_spreadsheet_id"] not in (gone, SPREADSHEET)
    assert state["created_spreadsheet_id"] in sheets.spreadsheets
    assert second.output_file.endswith(f"/d/{state['created_spreadsheet_id']}/edit")
