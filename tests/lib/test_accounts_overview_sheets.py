"""The accounts overview written to a Google Sheet through the shared writer (stand-in API)."""

from __future__ import annotations

from decimal import Decimal

from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import JobLevel, OutputType, Platform, RunStatus, ServiceAccount
from ppc_robot.lib.reports.accounts_overview import default_parameters
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


def test_the_overview_goes_to_the_spreadsheet_with_totals_per_currency(
        session, factory, settings, sheets, sandbox, google_stub):  # noqa: F811
    user, login, accounts = sandbox
    session.add(ServiceAccount(user_id=user.id, platform=Platform.GOOGLE_ADS, external_id="1112223333",
                               name="Agency MCC", credentials_encrypted=Vault([KEY]).encrypt_json(
                                   {"refresh_token": google_stub.issue_refresh_token()})))
    definition = make_definition(session, user, task_type="accounts_overview",
                                 output_type=OutputType.GOOGLE_SHEETS, parameters=default_parameters())
    job = make_job(session, user, definition=definition, output_path=SPREADSHEET)
    job.level, job.service_account_id, job.all_client_accounts = JobLevel.SERVICE_ACCOUNT, login.id, True
    session.commit()

    run = run_once(session, factory, settings, job)

    assert run.status == RunStatus.SUCCEEDED, run.error_message
    table = sheets.spreadsheets[SPREADSHEET]["Accounts overview"]
    header = table[0]
    assert header[:5] == ["Row", "Client", "Client account", "Platform", "Currency"]
    spend = header.index("Spend month to date")
    accounts_rows = [r for r in table[1:] if r and r[0] == "Account"]
    totals = {r[4]: Decimal(str(r[spend])) for r in table[1:] if r and r[0] == "Total"}
    assert len(accounts_rows) == len(accounts)
    assert totals == {currency: sum((Decimal(str(r[spend])) for r in accounts_rows if r[4] == currency),
                                    Decimal(0)) for currency in {a.currency for a in accounts}}
    # Ratios from the sums of the account rows, never an average of the rows' ratios.
    value, roas = header.index("Conversion value (month)"), header.index("ROAS")
    for total in (r for r in table[1:] if r and r[0] == "Total"):
        members = [r for r in accounts_rows if r[4] == total[4]]
        cost = sum(Decimal(str(r[spend])) for r in members)
        assert abs(Decimal(str(total[roas])) - sum(Decimal(str(r[value])) for r in members) / cost) < Decimal("1E-9")
