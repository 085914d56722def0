"""The accounts overview (the original's managed-accounts report): one row per client account
with its spend yesterday, over the last 7 days and month to date, its client's monthly budget,
pacing and month-end forecast, and conversions, CPA, ROAS and PNO against the client's targets.

Only its parameters live here; the computation is in accounts_overview_table.py and the run
(store refresh, outputs, notifications) in accounts_overview_run.py.
"""

from __future__ import annotations

from wtforms import BooleanField, SelectField
from wtforms.validators import Optional

from ppc_robot.lib.bounds import Bound
from ppc_robot.lib.exchange_rates import REPORTING_CURRENCIES
from ppc_robot.lib.fields import BoundedIntegerField
from ppc_robot.lib.reports.catalogue import Parameters, ReportParametersForm, ReportType

TARGET_DAYS = Bound(1, 31, "a number of days")
DEFAULT_TARGET_DAYS = 3


class AccountsOverviewParametersForm(ReportParametersForm):
    """Parameters of the accounts overview."""

    notifications = BooleanField(
        "Raise budget and target notifications",
        description="Pacing over or under the client's tolerance, an account with a budget that "
                    "spent nothing yesterday, a target missed several days in a row.")
    target_days = BoundedIntegerField(
        "Days in a row before a missed target is notified", validators=[Optional()],
        bound=TARGET_DAYS, default=DEFAULT_TARGET_DAYS)
    reporting_currency = SelectField(
        "Reporting currency", choices=REPORTING_CURRENCIES, default="",
        description="Converts all money to this currency at the European Central Bank's rate of "
                    "each day (budgets and targets at the last day's); each account keeps its own "
                    "currency and rate beside it.")

    def parameters(self) -> Parameters:
        result = super().parameters()
        result["notifications"] = bool(result["notifications"])
        result["target_days"] = result["target_days"] or DEFAULT_TARGET_DAYS
        return result


def default_parameters() -> Parameters:
    return {"notifications": False, "target_days": DEFAULT_TARGET_DAYS, "reporting_currency": ""}


ACCOUNTS_OVERVIEW = ReportType(
    name="accounts_overview",
    label="Accounts overview",
    version=1,
    form_class=AccountsOverviewParametersForm,
    description="Spend yesterday, last 7 days and month to date per client account, the "
                "client's budget pacing and forecast, and its targets.",
    default_parameters=default_parameters,
)
