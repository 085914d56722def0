"""The performance report's totals per currency in a Google Sheet (stand-in Sheets API)."""

from __future__ import annotations

from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import OutputType, Platform, RunStatus, ServiceAccount
from ppc_robot.lib.reports.performance import default_parameters
from tests.factories import make_definition, make_job
from tests.lib.test_google_sheets_output import (  # noqa: F401 (fixtures)
    SPREADSHEET,
    factory,
    google_stub,
    run_once,
    sandbox,
    settings,
    sheets,
)
from tests.support.runs import KEY


def test_performance_totals_per_currency_in_the_sheet_are_the_sums_of_its_rows(
        session, factory, settings, sheets, sandbox, google_stub):  # noqa: F811
    user, _, accounts = sandbox
    session.add(ServiceAccount(user_id=user.id, platform=Platform.GOOGLE_ADS, external_id="1112223333",
                               name="Agency MCC", credentials_encrypted=Vault([KEY]).encrypt_json(
                                   {"refresh_token": google_stub.issue_refresh_token()})))
    parameters = default_parameters() | {"dimensions": ["campaign"], "date_range": "last_7_days",
                                         "metrics": ["impressions", "clicks", "cost", "ctr", "cpc"]}
    definition = make_definition(session, user, version=2, output_type=OutputType.GOOGLE_SHEETS,
                                 parameters=parameters)
    job = make_job(session, user, definition=definition, output_path=SPREADSHEET)
    job.client_accounts = accounts[:3]
    session.commit()

    run = run_once(session, factory, settings, job)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    table = sheets.spreadsheets[SPREADSHEET]["Performance"]
    header = table[0]
    column = {name: header.index(name) for name in header}
    data = [r for r in table[1:] if r and r[0] != "Total" and len(r) == len(header)]
    totals = {r[column["Currency"]]: r for r in table[1:] if r and r[0] == "Total"}
    assert set(totals) == {"CZK", "EUR"}
    assert table.index(list(totals["CZK"])) == len(data) + 1  # right under the rows
    for currency, total in totals.items():
        rows = [r for r in data if r[column["Currency"]] == currency]
        impressions = sum(r[column["Impressions"]] for r in rows)
        clicks = sum(r[column["Clicks"]] for r in rows)
        cost = sum(r[column["Cost"]] for r in rows)
        assert (total[column["Impressions"]], total[column["Clicks"]]) == (impressions, clicks)
        assert abs(total[column["Cost"]] - cost) < 1e-6 * cost
        assert abs(total[column["CTR"]] - clicks / impressions) < 1e-12
        assert abs(total[column["Avg. CPC"]] - cost / clicks) < 1e-6
