"""The performance report's layout: its columns, the sheet per account, its preview."""

from __future__ import annotations

from typing import Any

from ppc_robot.lib.models import OutputType
from ppc_robot.lib.outputs import Column, ColumnKind
from ppc_robot.lib.reports.performance import DIMENSIONS, METRICS
from ppc_robot.lib.reports.performance_table import ReportTable
from ppc_robot.lib.reports.periods import Period
from ppc_robot.lib.reports.shared import Preview, ReportRun, TableLayout

LABELS = dict(DIMENSIONS) | dict(METRICS) | {"currency": "Currency"}
KINDS = {
    "date": ColumnKind.DATE, "week": ColumnKind.DATE, "month": ColumnKind.TEXT,
    "impressions": ColumnKind.INTEGER, "clicks": ColumnKind.INTEGER,
    "cost": ColumnKind.MONEY, "conversions": ColumnKind.DECIMAL, "conversion_value": ColumnKind.MONEY,
    "ctr": ColumnKind.PERCENT, "cpc": ColumnKind.MONEY, "cpm": ColumnKind.MONEY,
    "conversion_rate": ColumnKind.PERCENT, "cpa": ColumnKind.MONEY, "roas": ColumnKind.RATIO,
    "pno": ColumnKind.PERCENT,
}
BETTER = {"cpa": "lower", "pno": "lower", "roas": "higher"}


def _columns(has_previous: bool, parameters: dict[str, Any], *, show_currency: bool) -> list[Column]:
    names = list(parameters["dimensions"]) + (["currency"] if show_currency else [])
    columns = [Column(n, LABELS.get(n, n), KINDS.get(n, ColumnKind.TEXT)) for n in names]
    for metric in parameters["metrics"]:
        kind = KINDS.get(metric, ColumnKind.DECIMAL)
        columns.append(Column(metric, LABELS[metric], kind, better=BETTER.get(metric)))
        if has_previous:
            columns.append(Column(f"{metric}_previous", f"{LABELS[metric]} (before)", kind))
            change_kind = ColumnKind.DECIMAL if kind is ColumnKind.MONEY else kind
            columns.append(Column(f"{metric}_change", f"{LABELS[metric]} change", change_kind))
            columns.append(Column(f"{metric}_change_pct", f"{LABELS[metric]} change %", ColumnKind.PERCENT))
    return columns


def shown_parameters(parameters: dict[str, Any], output_type: OutputType) -> dict[str, Any]:
    """The parameters whose dimensions the output shows.

    One sheet per account needs the rows by account, chosen as a dimension or not: an XLSX
    workbook names the account on the sheet's tab; a CSV file or a Google Sheet, one table,
    names it in a column.
    """
    dimensions = list(parameters["dimensions"])
    if (parameters.get("sheets") == "per_account" and "client_account" not in dimensions
            and output_type is not OutputType.XLSX):
        return parameters | {"dimensions": [*dimensions, "client_account"]}
    return parameters


def performance_preview(table: ReportTable, parameters: dict[str, Any]) -> Preview:
    """The job page's preview: the first rows and, with a date dimension, the first metric per day."""
    metric = parameters["metrics"][0]
    columns = _columns(table.has_previous, parameters, show_currency=len(table.currencies) > 1)
    currency = table.currencies[0] if len(table.currencies) == 1 else ""
    return Preview(columns, currency, chart_metric=metric if "date" in table.keys else None,
                   chart_label=LABELS.get(metric, metric))


def write_output(run: ReportRun, table: ReportTable, parameters: dict[str, Any], period: Period,
                 preview: Preview) -> tuple[str, dict[str, Any] | None]:
    """Write the report where the job sends it; returns the file (or address) and output state."""
    parameters = shown_parameters(parameters, OutputType(run.context.output_type))
    single_currency = table.currencies[0] if len(table.currencies) == 1 else None
    per_account = parameters.get("sheets") == "per_account"
    layout = TableLayout(
        "Performance", _columns(table.has_previous, parameters, show_currency=single_currency is None),
        notes=[f"Period: {period.label()}"], currency=single_currency,
        chart_metric=parameters["metrics"][0] if parameters["dimensions"] == ["date"] else None,
        goals=run.goals(),
        # A sheet per account (the table has its rows by account, as a dimension or not).
        sheet_per="client_account" if per_account else None,
        sheet_columns=_columns(table.has_previous, parameters, show_currency=False) if per_account else None,
    )
    return run.write(layout, table.frames(), preview=preview)
