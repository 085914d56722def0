"""A report's table written where its job sends it: an XLSX workbook, a CSV file or a Google
Sheet. Every output of a partial run names the client accounts left out.

A report type describes its table once (`TableLayout`: columns, notes, currency, chart, goals)
and hands its rows as polars frames, in order; `write_table` does the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import OutputType
from ppc_robot.lib.outputs import Column, ColumnKind, Sheet, SheetWriter, XlsxFile, write_csv
from ppc_robot.lib.outputs.totals import Totals, needed_columns
from ppc_robot.lib.reports.shared.google_sheet import write_report_sheet
from ppc_robot.lib.runner import MissingAccount, RunContext, RunFailed

EXACT_FLOAT_LIMIT = 2 ** 53
_UNSAFE = re.compile(r"[^\w .,()\-]+", re.UNICODE)


@dataclass(frozen=True)
class TableLayout:
    """How a report's table looks in every output.

    `title` names the XLSX sheet and the Google Sheets tab; `notes` stand under the table
    (the missing accounts of a partial run are added to them). XLSX only: `currency` is the
    money format of a one-currency table, `chart_metric` charts that column over the date
    column, `goals` colour a metric's cells against its target, and `sheet_per` makes a sheet
    per value of that column (in the order values first come, each sheet with `sheet_columns`
    and the currency of its first row's `currency` column).

    Totals (XLSX, Google Sheets, the preview; never CSV): a row per currency under the data,
    from the columns' `total` declarations; `total_inputs` are columns the frames carry that
    ratios read without being shown, `count_where` (column, value) sums only those rows.
    """

    title: str
    columns: list[Column]
    notes: list[str] = field(default_factory=list)
    currency: str | None = None
    chart_metric: str | None = None
    goals: Mapping[str, Decimal] = field(default_factory=dict)
    sheet_per: str | None = None
    sheet_columns: list[Column] | None = None
    total_inputs: list[Column] = field(default_factory=list)
    count_where: tuple[str, str] | None = None

    def totals(self, columns: list[Column], currency: str | None) -> Totals:
        """Empty totals of a table of these columns (fill them with `add`)."""
        return Totals(columns, self.total_inputs, currency=currency, count_where=self.count_where)

    def sheet(self, title: str, columns: list[Column], currency: str | None, notes: list[str]) -> Sheet:
        """An XLSX sheet of this layout (its rows are written as they come): the columns, then
        hidden the inputs its totals read."""
        hidden = needed_columns(columns, self.total_inputs)
        return Sheet(title, columns + hidden, (), currency=currency, chart_metric=self.chart_metric,
                     goals=dict(self.goals), notes=notes, totals=self.totals(columns, currency),
                     hidden_columns=len(hidden))


# The polars type a column of each kind is built with: money to the cent, other numbers to four
# places (the writers format them), an exchange rate to six.
FRAME_TYPES: dict[ColumnKind, Any] = {
    ColumnKind.TEXT: pl.String, ColumnKind.DATE: pl.Date, ColumnKind.INTEGER: pl.Int64,
    ColumnKind.MONEY: pl.Decimal(38, 2), ColumnKind.DECIMAL: pl.Decimal(38, 4),
    ColumnKind.PERCENT: pl.Decimal(38, 4), ColumnKind.RATIO: pl.Decimal(38, 4),
    ColumnKind.RATE: pl.Decimal(38, 6),
}


def frame_schema(columns: Sequence[Column]) -> dict[str, Any]:
    """A report table's polars schema, from its columns' kinds."""
    return {column.name: FRAME_TYPES[column.kind] for column in columns}


def output_name(pattern: str, job_name: str, day: date) -> str:
    """The file name from the job's pattern ({job}, {date}); path characters are refused."""
    pattern = pattern or "{job} {date}"
    if "/" in pattern or "\\" in pattern or ".." in pattern or "\x00" in pattern:
        raise RunFailed(N_("The output file name may not contain /, \\ or “..”; change it in the job."))
    try:
        name = pattern.format(job=job_name, date=day.isoformat())
    except (KeyError, IndexError, ValueError) as exc:
        raise RunFailed(N_("The output file name pattern is not valid (%(reason)s); use {job} and {date}.")
                        % {"reason": exc}) from exc
    name = _UNSAFE.sub("_", name).strip(" .") or "report"
    return name[:120]


def partial_note(missing: list[MissingAccount]) -> str | None:
    """One sentence naming the client accounts a partial report leaves out; None when whole."""
    if not missing:
        return None
    names = "; ".join(f"“{m.name}” ({m.reason})" for m in missing)
    return f"Partial report: {len(missing)} client account(s) missing: {names}"


def write_table(context: RunContext, layout: TableLayout, frames: Iterator[pl.DataFrame],
                missing: list[MissingAccount], day: date) -> tuple[str, dict[str, Any] | None]:
    """Write the rows where the job sends them, the file named for `day`; returns the file (or
    the spreadsheet's address) and the job's new output state (None: unchanged).

    Raises RunFailed for an output name with path characters and for Google's refusals.
    """
    output_type = OutputType(context.output_type)
    notes = layout.notes + [f"Missing client account “{m.name}”: {m.reason}" for m in missing]
    context.output_dir.mkdir(parents=True, exist_ok=True)
    name = output_name(context.output_path, context.job_name, day)
    names = [c.name for c in layout.columns]
    if output_type is OutputType.GOOGLE_SHEETS:
        totals = layout.totals(layout.columns, layout.currency)
        rows = with_totals(rows_of(totalled(frames, totals), names), totals, layout.columns)
        return write_report_sheet(context, layout.title, layout.columns, rows, notes)
    extension = "xlsx" if output_type is OutputType.XLSX else "csv"
    # Fixed by the run id: a run executed twice overwrites its own file, never adds another.
    target = context.output_dir / f"{context.run_id}-{name}.{extension}"
    partial = target.with_name(f".{target.name}.part")
    if output_type is OutputType.XLSX:
        with XlsxFile(partial) as workbook:
            if layout.sheet_per is not None:
                _write_sheet_per(workbook, layout, frames, notes)
            else:
                sheet = layout.sheet(layout.title, layout.columns, layout.currency, notes)
                merged = workbook.add_sheet(sheet)
                for frame in totalled(frames, sheet.totals):
                    merged.write(xlsx_rows(frame, [c.name for c in sheet.columns]))
    else:
        delimiter = str(context.settings.app_config.get("PPC_ROBOT_CSV_DELIMITER") or ",")
        write_csv(partial, layout.columns, rows_of(frames, names), delimiter=delimiter,
                  last_row=partial_note(missing), currency=layout.currency)
    partial.replace(target)
    return str(target), None


def _write_sheet_per(workbook: XlsxFile, layout: TableLayout, frames: Iterator[pl.DataFrame],
                     notes: list[str]) -> None:
    """A sheet per value of `layout.sheet_per`, in the order the values first come; a value
    (an account) has one currency, its sheet's money format."""
    assert layout.sheet_per is not None
    own = layout.sheet_columns or layout.columns
    sheets: dict[Any, tuple[SheetWriter, Sheet]] = {}
    for frame in frames:
        for (value,), part in frame.partition_by(layout.sheet_per, maintain_order=True,
                                                 as_dict=True).items():
            if value not in sheets:
                currency = str(part.get_column("currency")[0])
                sheet = layout.sheet(str(value), own, currency, notes)
                sheets[value] = (workbook.add_sheet(sheet), sheet)
            writer, sheet = sheets[value]
            if sheet.totals is not None:
                sheet.totals.add(part)
            writer.write(xlsx_rows(part, [c.name for c in sheet.columns]))
    if not sheets:
        workbook.add_sheet(layout.sheet(layout.title, layout.columns, layout.currency, notes))


def totalled(frames: Iterator[pl.DataFrame], totals: Totals | None) -> Iterator[pl.DataFrame]:
    """The same frames, added to `totals` on their way."""
    for frame in frames:
        if totals is not None:
            totals.add(frame)
        yield frame


def with_totals(rows: Iterator[tuple[Any, ...]], totals: Totals,
                columns: list[Column]) -> Iterator[tuple[Any, ...]]:
    """The rows, then (once they are all through) a totals row per currency."""
    yield from rows
    if totals.has_totals:
        for row in totals.rows():
            yield totals.cells(row, columns)


def rows_of(frames: Iterator[pl.DataFrame], names: list[str]) -> Iterator[tuple[Any, ...]]:
    """The frames' rows as tuples of the named columns, in order."""
    for frame in frames:
        yield from frame.select(names).iter_rows()


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
