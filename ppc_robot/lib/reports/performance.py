"""The performance report: metrics by the dimensions the user picks, over a date range.

Only its parameters live here; execution comes with the runner.
"""

from __future__ import annotations

from typing import Any

from wtforms import DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ppc_robot.lib.bounds import COUNT, Bound
from ppc_robot.lib.exchange_rates import REPORTING_CURRENCIES
from ppc_robot.lib.fields import BoundedDecimalField, BoundedIntegerField, MoneyField
from ppc_robot.lib.reports.catalogue import Parameters, ReportParametersForm, ReportType

DIMENSIONS = [
    ("date", "Date"),
    ("week", "Week"),
    ("month", "Month"),
    ("client_account", "Client account"),
    ("campaign", "Campaign"),
    ("ad_group", "Ad group"),
    ("device", "Device"),
    ("platform", "Platform"),
]
BASE_METRICS = [
    ("impressions", "Impressions"),
    ("clicks", "Clicks"),
    ("cost", "Cost"),
    ("conversions", "Conversions"),
    ("conversion_value", "Conversion value"),
]
DERIVED_METRICS = [
    ("ctr", "CTR"),
    ("cpc", "Avg. CPC"),
    ("cpm", "CPM"),
    ("conversion_rate", "Conversion rate"),
    ("cpa", "CPA"),
    ("roas", "ROAS"),
    ("pno", "PNO"),
]
METRICS = BASE_METRICS + DERIVED_METRICS
DATE_RANGES = [
    ("yesterday", "Yesterday"),
    ("last_7_days", "Last 7 days"),
    ("last_14_days", "Last 14 days"),
    ("last_30_days", "Last 30 days"),
    ("this_week", "This week"),
    ("last_week", "Last week"),
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("month_to_date", "Month to date"),
    ("custom", "Custom dates"),
]
COMPARISONS = [
    ("none", "No comparison"),
    ("previous_period", "Previous period"),
    ("same_period_last_year", "Same period last year"),
]
SORT_ORDERS = [("desc", "Highest first"), ("asc", "Lowest first")]
SHEETS = [("merged", "All accounts in one sheet"), ("per_account", "One sheet per account")]
ROW_LIMIT_MAX = 100_000
ROW_LIMIT = Bound(1, ROW_LIMIT_MAX, "a row limit")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class PerformanceParametersForm(ReportParametersForm):
    """Parameters of the performance report."""

    dimensions = SelectMultipleField(
        "Rows by", choices=DIMENSIONS, validators=[InputRequired("Pick at least one dimension.")]
    )
    metrics = SelectMultipleField(
        "Metrics", choices={"Base": BASE_METRICS, "Derived": DERIVED_METRICS},
        validators=[InputRequired("Pick at least one metric.")],
    )
    date_range = SelectField("Date range", choices=DATE_RANGES, default="yesterday")
    date_from = DateField("From", validators=[Optional()], description="Custom dates only.")
    date_to = DateField("To", validators=[Optional()], description="Custom dates only.")
    comparison = SelectField("Compare with", choices=COMPARISONS, default="none")
    min_impressions = BoundedIntegerField("Only rows with impressions at least",
                                          validators=[Optional()], bound=COUNT)
    min_clicks = BoundedIntegerField("Only rows with clicks at least", validators=[Optional()],
                                     bound=COUNT)
    min_cost = MoneyField("Only rows with cost at least", validators=[Optional()])
    min_conversions = BoundedDecimalField("Only rows with conversions at least", places=2,
                                          validators=[Optional()], bound=COUNT)
    name_contains = StringField(
        "Campaign or ad group name contains", filters=[_strip], validators=[Length(max=100)]
    )
    sort_by = SelectField("Sort by", choices=METRICS + DIMENSIONS, default="cost")
    sort_order = SelectField("Order", choices=SORT_ORDERS, default="desc")
    row_limit = BoundedIntegerField(
        "Row limit", validators=[Optional()], bound=ROW_LIMIT, description="Empty for all rows.",
    )
    sheets = SelectField(
        "Accounts", choices=SHEETS, default="merged",
        description="One sheet per account: an XLSX sheet for each client account (with or without "
                    "the client-account dimension); a CSV or Google Sheet gets a client-account column.",
    )

    reporting_currency = SelectField(
        "Reporting currency", choices=REPORTING_CURRENCIES, default="",
        description="Converts all money to this currency at the European Central Bank's rate of "
                    "each day; the original currency and the rate stay in the report.")

    def validate_parameters(self) -> bool:
        ok = True
        if self.date_range.data == "custom":
            if self.date_from.data is None:
                self.date_from.errors = [*self.date_from.errors, "Give the first day."]
                ok = False
            if self.date_to.data is None:
                self.date_to.errors = [*self.date_to.errors, "Give the last day."]
                ok = False
            if ok and self.date_from.data > self.date_to.data:
                self.date_to.errors = [*self.date_to.errors, "The last day comes before the first."]
                ok = False
        return ok

    def parameters(self) -> Parameters:
        result = super().parameters()
        if result["date_range"] != "custom":
            result["date_from"] = result["date_to"] = None
        result["name_contains"] = result["name_contains"] or ""
        return result


def default_parameters() -> Parameters:
    return {
        "dimensions": ["date", "campaign"],
        "metrics": ["impressions", "clicks", "cost", "conversions", "ctr", "cpc"],
        "date_range": "yesterday",
        "date_from": None,
        "date_to": None,
        "comparison": "none",
        "min_impressions": None,
        "min_clicks": None,
        "min_cost": None,
        "min_conversions": None,
        "name_contains": "",
        "sort_by": "cost",
        "sort_order": "desc",
        "row_limit": None,
        "sheets": "merged",
        "reporting_currency": "",
    }


def upgrade_from_1(parameters: Parameters) -> Parameters:
    """Version 1 had only a date range and dimensions, and called accounts `account`."""
    upgraded = default_parameters()
    upgraded["date_range"] = parameters.get("date_range", "yesterday")
    dimensions = [
        "client_account" if d == "account" else d for d in parameters.get("dimensions", [])
    ]
    upgraded["dimensions"] = dimensions or upgraded["dimensions"]
    return upgraded


PERFORMANCE = ReportType(
    name="performance",
    label="Performance report",
    version=2,
    form_class=PerformanceParametersForm,
    description="Impressions, clicks, cost, conversions and derived metrics by the rows you pick.",
    default_parameters=default_parameters,
    upgrades={1: upgrade_from_1},
)
