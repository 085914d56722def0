"""The performance report's outputs: an XLSX workbook, a CSV file or a Google Sheet, and the
preview the job page shows. Every output of a partial run names the client accounts left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from ppc_robot.lib.models import Client, OutputType
from ppc_robot.lib.outputs import Column, ColumnKind, Sheet, SheetWriter, XlsxFile, write_csv
from ppc_robot.lib.reports.google_sheet import write_report_sheet
from ppc_robot.lib.reports.performance import DIMENSIONS, METRICS
from ppc_robot.lib.reports.performance_table import ReportTable
from ppc_robot.lib.reports.periods import Period
from ppc_robot.lib.runner import MissingAccount, RunContext, RunFailed
from ppc_robot.lib.runs import preview_name

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


def _goals(client: Client | None) -> dict[str, Decimal]:
    if client is None:
        return {}
    goals = {"cpa": client.target_cpa, "roas": client.target_roas, "pno": client.target_pno}
    return {k: v for k, v in goals.items() if v is not None}


_UNSAFE = re.compile(r"[^\w .,()\-]+", re.UNICODE)


def output_name(pattern: str, job_name: str, day: date) -> str:
    """The file name from the job's pattern ({job}, {date}); path characters are refused."""
    pattern = pattern or "{job} {date}"
    if "/" in pattern or "\\" in pattern or ".." in pattern or "\x00" in pattern:
        raise RunFailed("The output file name may not contain /, \\ or “..”; change it in the job.")
    try:
        name = pattern.format(job=job_name, date=day.isoformat())
    except (KeyError, IndexError, ValueError) as exc:
        raise RunFailed(f"The output file name pattern is not valid ({exc}); use {{job}} and {{date}}.") from exc
    name = _UNSAFE.sub("_", name).strip(" .") or "report"
    return name[:120]


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


def partial_note(missing: list[MissingAccount]) -> str | None:
    """One sentence naming the client accounts a partial report leaves out; None when whole."""
    if not missing:
        return None
    names = "; ".join(f"“{m.name}” ({m.reason})" for m in missing)
    return f"Partial report: {len(missing)} client account(s) missing: {names}"


def write_output(context: RunContext, table: ReportTable, parameters: dict[str, Any],
                 missing: list[MissingAccount], client: Client | None, period: Period, today: date,
                 preview: Preview) -> tuple[str, dict[str, Any] | None]:
    """Write the report where the job sends it; returns the file (or address) and output state."""
    output_type = OutputType(context.output_type)
    parameters = shown_parameters(parameters, output_type)
    single_currency = table.currencies[0] if len(table.currencies) == 1 else None
    columns = _columns(table.has_previous, parameters, show_currency=single_currency is None)
    notes = [f"Period: {period.label()}"] + [
        f"Missing client account “{m.name}”: {m.reason}" for m in missing]
    context.output_dir.mkdir(parents=True, exist_ok=True)
    name = output_name(context.output_path, context.job_name, today)
    names = [c.name for c in columns]
    frames = preview.watch(table.frames())
    if output_type is OutputType.GOOGLE_SHEETS:
        return write_report_sheet(context, "Performance", columns, _rows(frames, names), notes)
    extension = "xlsx" if output_type is OutputType.XLSX else "csv"
    # Fixed by the run id: a run executed twice overwrites its own file, never adds another.
    target = context.output_dir / f"{context.run_id}-{name}.{extension}"
    partial = target.with_name(f".{target.name}.part")
    if output_type is OutputType.XLSX:
        chart_metric = parameters["metrics"][0] if parameters["dimensions"] == ["date"] else None

        def sheet(title: str, columns: list[Column] = columns, currency: str | None = single_currency) -> Sheet:
            return Sheet(title, columns, (), currency=currency, chart_metric=chart_metric,
                         goals=_goals(client), notes=notes)

        with XlsxFile(partial) as workbook:
            if parameters.get("sheets") == "per_account":
                # A sheet per account (the table has its rows by account, as a dimension or
                # not), in the order the accounts first come in the report; an account has one
                # currency, its sheet's money format.
                own = _columns(table.has_previous, parameters, show_currency=False)
                sheets: dict[str, SheetWriter] = {}
                for frame in frames:
                    for (account,), part in frame.partition_by("client_account", maintain_order=True,
                                                               as_dict=True).items():
                        if account not in sheets:
                            currency = str(part.get_column("currency")[0])
                            sheets[account] = workbook.add_sheet(sheet(str(account), own, currency))
                        sheets[account].write(xlsx_rows(part, [c.name for c in own]))
                if not sheets:
                    workbook.add_sheet(sheet("Performance"))
            else:
                merged = workbook.add_sheet(sheet("Performance"))
                for frame in frames:
                    merged.write(xlsx_rows(frame, names))
    else:
        delimiter = str(context.settings.app_config.get("PPC_ROBOT_CSV_DELIMITER") or ",")
        write_csv(partial, columns, _rows(frames, names), delimiter=delimiter,
                  last_row=partial_note(missing))
    partial.replace(target)
    return str(target), None


def _rows(frames: Iterator[pl.DataFrame], names: list[str]) -> Iterator[tuple[Any, ...]]:
    for frame in frames:
        yield from frame.select(names).iter_rows()


EXACT_FLOAT_LIMIT = 2 ** 53


def xlsx_rows(frame: pl.DataFrame, names: list[str]) -> Iterator[tuple[Any, ...]]:
    """Rows for the XLSX writer, Decimal columns already as the floats it would make of them.

    A Decimal of scale s is n / 10^s; below 2^53, n and 10^s are exact doubles and one
    division rounds as float(Decimal) does, so the cast gives the same float without making
    a Decimal object per cell. Larger amounts keep the Decimal path.
    """
    selected = frame.select(names)
    floats = []
    for name, dtype in selected.schema.items():
        if isinstance(dtype, pl.Decimal):
            largest = selected.get_column(name).to_physical().abs().max()
            if largest is None or largest < EXACT_FLOAT_LIMIT:
                floats.append(pl.col(name).cast(pl.Float64))
    return (selected.with_columns(floats) if floats else selected).iter_rows()



PREVIEW_ROWS = 20


def _shown(column: Column, value: Any, currency: str) -> str:
    """A cell as the preview shows it: money with two decimals and its currency, percentages."""
    if value is None:
        return ""
    if column.kind is ColumnKind.MONEY:
        return f"{Decimal(value):,.2f} {currency}".replace(",", "\u202f").strip()
    if column.kind is ColumnKind.PERCENT:
        return f"{float(value) * 100:.2f} %"
    if column.kind in (ColumnKind.RATIO, ColumnKind.DECIMAL):
        return f"{float(value):,.2f}".replace(",", "\u202f")
    if column.kind is ColumnKind.INTEGER:
        return f"{int(value):,}".replace(",", "\u202f")
    return str(value)


class Preview:
    """First rows and, with a date dimension, the first metric per day, for the job page.

    Noted from the report's frames on their way to the output, so the table is read once.
    """

    def __init__(self, table: ReportTable, parameters: dict[str, Any]) -> None:
        self.columns = _columns(table.has_previous, parameters, show_currency=len(table.currencies) > 1)
        self.currency = table.currencies[0] if len(table.currencies) == 1 else ""
        self.metric = parameters["metrics"][0]
        self.charted = "date" in table.keys
        self.rows: list[list[str]] = []
        self._sums: list[pl.DataFrame] = []

    def watch(self, frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        names = [c.name for c in self.columns]
        for frame in frames:
            if len(self.rows) < PREVIEW_ROWS:
                self.rows += [[_shown(column, value, self.currency) for column, value in zip(self.columns, row, strict=True)]
                              for row in frame.head(PREVIEW_ROWS - len(self.rows)).select(names).iter_rows()]
            if self.charted:
                self._sums.append(frame.group_by("date").agg(pl.col(self.metric).cast(pl.Float64).sum()))
            yield frame

    def save(self, context: RunContext) -> None:
        labels: list[str] = []
        values: list[float] = []
        if self._sums:
            series = pl.concat(self._sums).group_by("date").agg(pl.col(self.metric).sum()).sort("date")
            labels = [d.isoformat() for d in series.get_column("date").to_list()]
            values = [round(v or 0.0, 4) for v in series.get_column(self.metric).to_list()]
        target = context.output_dir / preview_name(context.run_id)
        target.write_text(json.dumps({"header": [c.label for c in self.columns], "rows": self.rows,
                                      "chart_labels": labels, "chart_values": values,
                                      "chart_label": LABELS.get(self.metric, self.metric)}), encoding="utf-8")
