"""The URL checker written to a Google Sheet through the shared writer (stand-in API)."""

from __future__ import annotations

import dataclasses

import pytest

from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import JobLevel, OutputType, Platform, RunStatus, ServiceAccount
from ppc_robot.lib.reports.url_checker import default_parameters
from tests.factories import make_definition, make_job
from tests.lib.test_google_sheets_output import (  # noqa: F401 (fixtures)
    SPREADSHEET,
    factory,
    google_stub,
    run_once,
    sandbox,
    sheets,
)
from tests.lib.test_google_sheets_output import settings as sheets_settings  # noqa: F401
from tests.support.demo_site import demo_site_server
from tests.support.runs import KEY


@pytest.fixture
def site():
    server = demo_site_server()
    yield server
    server.stop()


def test_the_url_list_goes_to_the_spreadsheet(session, factory, sheets_settings, sheets,  # noqa: F811
                                              sandbox, google_stub, site):  # noqa: F811
    settings = dataclasses.replace(sheets_settings, app_config={
        **sheets_settings.app_config, "PPC_ROBOT_BASE_URL": site.url,
        "PPC_ROBOT_URLCHECK_MIN_INTERVAL": "0"})
    user, login, _ = sandbox
    session.add(ServiceAccount(user_id=user.id, platform=Platform.GOOGLE_ADS, external_id="1112223333",
                               name="Agency MCC", credentials_encrypted=Vault([KEY]).encrypt_json(
                                   {"refresh_token": google_stub.issue_refresh_token()})))
    definition = make_definition(session, user, task_type="url_checker",
                                 output_type=OutputType.GOOGLE_SHEETS, parameters=default_parameters())
    job = make_job(session, user, definition=definition, output_path=SPREADSHEET)
    job.level, job.service_account_id, job.all_client_accounts = JobLevel.SERVICE_ACCOUNT, login.id, True
    session.commit()

    run = run_once(session, factory, settings, job)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    table = sheets.spreadsheets[SPREADSHEET]["URL checker"]
    assert table[0][:3] == ["Status", "URL", "HTTP status"]
    rows = [r for r in table[1:] if r and r[0] in ("OK", "Redirect", "Broken", "Malformed")]
    assert len(rows) == run.rows
    assert any(r[0] == "Broken" and r[1].endswith("/demo-site/sale-2019") for r in rows)
