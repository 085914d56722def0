"""XLSX output with XlsxWriter in constant-memory mode: a formatted sheet per table, a chart."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ppc_robot.lib.outputs.columns import (
    Change,
    Column,
    ColumnKind,
    Difference,
    Ratio,
    Sum,
    neutralise_formula,
)
from ppc_robot.lib.outputs.totals import Totals

NUMBER_FORMATS = {
    ColumnKind.INTEGER: "#,##0",
    ColumnKind.DECIMAL: "#,##0.00",
    ColumnKind.PERCENT: "0.00%",
    ColumnKind.RATIO: "0.00",
    ColumnKind.RATE: "0.000000",
    ColumnKind.DATE: "yyyy-mm-dd",
}
SHEET_NAME_MAX = 31
_FORBIDDEN_IN_SHEET_NAMES = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass
class Sheet:
    """One table of the workbook: rows in column order, and an optional chart and goals."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    currency: str | None = None
    chart_metric: str | None = None  # chart this column over the date column
    goals: dict[str, Decimal] = field(default_factory=dict)  # column name → target value
    notes: Sequence[str] = ()
    # Totals rows under the data (filled while the rows are written, read when the file closes);
    # the last `hidden_columns` columns are inputs of the totals, written but hidden.
    totals: Totals | None = None
    hidden_columns: int = 0


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name (31 characters, none of []:*?/\\)."""
    base = (name.translate(_FORBIDDEN_IN_SHEET_NAMES).strip() or "Sheet")[:SHEET_NAME_MAX]
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> int:
    """Write the workbook; returns the number of data rows over all sheets."""
    with XlsxFile(path) as workbook:
        for sheet in sheets:
            workbook.add_sheet(sheet).write(sheet.rows)
    return workbook.rows


class XlsxFile:
    """A workbook written as its rows arrive; rows may go to its sheets in any interleaving.

    Each sheet keeps only its current row in memory (constant-memory mode, a temporary file
    per sheet). Notes, filters, goal colours and charts are added when the file is closed.
    """

    def __init__(self, path: Path) -> None:
        self._workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                                         "strings_to_urls": False})
        self._header = self._workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "bottom": 1})
        self._formats = {kind: self._workbook.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}
        self._good = self._workbook.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self._bad = self._workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self._bold = self._workbook.add_format({"bold": True, "top": 1})
        self._taken: set[str] = set()
        self._sheets: list[SheetWriter] = []
        self.rows = 0

    def add_sheet(self, sheet: Sheet) -> SheetWriter:
        """A new sheet with the header of `sheet` (its rows are not read: give them to `write`)."""
        writer = SheetWriter(self._workbook, sheet, sheet_name(sheet.name, self._taken), self._header,
                             self._formats | {ColumnKind.TEXT: self._bold})
        self._sheets.append(writer)
        return writer

    def close(self) -> None:
        try:
            for writer in self._sheets:
                writer.finish(self._good, self._bad)
                self.rows += writer.last_row
        finally:
            self._workbook.close()

    def __enter__(self) -> XlsxFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


EXCEL_EPOCH = date(1899, 12, 30)
_TEXT, _DATE, _NUMBER = range(3)


def _plain(method: Any) -> Any:
    """XlsxWriter's cell method without its A1-notation wrapper: rows and columns are numbers here."""
    return getattr(method, "__wrapped__", method)


_WRITE_NUMBER = _plain(Worksheet.write_number)
_WRITE_STRING = _plain(Worksheet.write_string)


class SheetWriter:
    """One sheet of an XlsxFile: its header at once, then rows in order."""

    def __init__(self, workbook: Any, sheet: Sheet, name: str, header: Any, formats: dict[ColumnKind, Any]) -> None:
        self._workbook, self._sheet, self._name = workbook, sheet, name
        self._worksheet = worksheet = workbook.add_worksheet(name)
        money = workbook.add_format({"num_format": f'#,##0.00 "{sheet.currency}"' if sheet.currency else "#,##0.00"})
        first_hidden = len(sheet.columns) - sheet.hidden_columns
        for index, column in enumerate(sheet.columns):
            worksheet.set_column(index, index, column.width, None,
                                 {"hidden": True} if index >= first_hidden else None)
            worksheet.write_string(0, index, column.label, header)
        self._label = formats[ColumnKind.TEXT]
        worksheet.freeze_panes(1, 0)
        # Per column: how its values are written, with which number format.
        self._plan = [
            (index, _TEXT, None) if column.kind is ColumnKind.TEXT
            else (index, _DATE, formats[ColumnKind.DATE]) if column.kind is ColumnKind.DATE
            else (index, _NUMBER, money if column.kind is ColumnKind.MONEY else formats.get(column.kind))
            for index, column in enumerate(sheet.columns)
        ]
        self.last_row = 0
        # Where each currency's rows are (first, last), while they come one block per currency;
        # None once a currency comes back after another (the totals then test each row).
        names = [c.name for c in sheet.columns]
        currency_column = sheet.totals.currency_column if sheet.totals is not None else "currency"
        self._currency_at = names.index(currency_column) if currency_column in names else None
        self._blocks: dict[Any, list[int]] | None = {}
        self._block: list[int] | None = None
        self._block_currency: Any = object()

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows (tuples in column order) after those already written; None leaves a cell empty."""
        worksheet, plan = self._worksheet, self._plan
        number, string = _WRITE_NUMBER, _WRITE_STRING
        row_number = self.last_row
        at = self._currency_at
        for row_number, row in enumerate(rows, start=self.last_row + 1):
            if at is not None and self._blocks is not None:
                if row[at] == self._block_currency and self._block is not None:
                    self._block[1] = row_number
                elif row[at] in self._blocks:
                    self._blocks = None
                else:
                    self._block_currency = row[at]
                    self._block = self._blocks[row[at]] = [row_number, row_number]
            for index, kind, fmt in plan:
                value = row[index]
                if value is None:
                    continue
                if kind is _NUMBER:
                    number(worksheet, row_number, index, float(value), fmt)
                elif kind is _TEXT or not isinstance(value, date | datetime):
                    string(worksheet, row_number, index, neutralise_formula(str(value)))
                else:
                    # Excel stores dates as day numbers; writing the number skips a slow conversion.
                    day = value if type(value) is date else value.date()
                    number(worksheet, row_number, index, (day - EXCEL_EPOCH).days, fmt)
        self.last_row = row_number

    def finish(self, good: Any, bad: Any) -> None:
        worksheet, sheet, last_row = self._worksheet, self._sheet, self.last_row
        below = self._write_totals() if last_row else 0
        for offset, note in enumerate(sheet.notes, start=2 + below):
            worksheet.write_string(last_row + offset, 0, neutralise_formula(note))
        if last_row:
            worksheet.autofilter(0, 0, last_row, len(sheet.columns) - 1 - sheet.hidden_columns)
            _colour_against_goals(worksheet, sheet, last_row, good, bad)
            _add_chart(self._workbook, worksheet, sheet, self._name, last_row)

    def _write_totals(self) -> int:
        """A totals row per currency under the data: SUBTOTAL formulas, so a filter changes
        them, each with its computed value cached for viewers that do not recalculate.
        Returns the number of rows written."""
        totals = self._sheet.totals
        if totals is None or not totals.has_totals:
            return 0
        rows = totals.rows()
        columns = self._sheet.columns
        index_of = {c.name: i for i, c in enumerate(columns)}
        last = self.last_row
        for offset, row in enumerate(rows, start=1):
            number = last + offset
            cells = totals.cells(row, columns)
            block = self._blocks.get(row.currency) if self._blocks is not None else None
            if len(rows) > 1 and block is not None and totals.count_where is None:
                # The currency's rows are one block (the table is sorted by currency first):
                # a plain SUBTOTAL over it, light for a large sheet.
                span, conditions = (block[0], block[1]), []
            else:
                span = (1, last)
                conditions = total_conditions(totals, row.currency, index_of, several=len(rows) > 1)
            for index, (column, cell) in enumerate(zip(columns, cells, strict=True)):
                _index, _kind, fmt = self._plan[index]
                if column.total is None or index == 0:
                    if cell is not None:
                        self._worksheet.write_string(number, index, neutralise_formula(str(cell)),
                                                     self._label)
                    continue
                formula = total_formula(column, index, number, span, index_of, conditions)
                cached: Any = float(cell) if cell is not None else ""
                self._worksheet.write_formula(number, index, formula, fmt, cached)
        return len(rows)


def total_conditions(totals: Totals, currency: str, index_of: dict[str, int], *,
                     several: bool) -> list[tuple[int, str]]:
    """Which rows a totals row sums, as (column index, value) tests: its currency's when the
    sheet has `several`, and those of `totals.count_where`. With a test, the sum counts the
    visible rows that pass it (the SUMPRODUCT/SUBTOTAL/OFFSET idiom); without, a SUBTOTAL."""
    conditions = []
    currency_index = index_of.get(totals.currency_column)
    if several and currency_index is not None:
        conditions.append((currency_index, currency))
    if totals.count_where is not None and totals.count_where[0] in index_of:
        conditions.append((index_of[totals.count_where[0]], totals.count_where[1]))
    return conditions


def _cell(row: int, column: int, absolute: bool = False) -> str:
    return xl_rowcol_to_cell(row, column, absolute, absolute)


def total_formula(column: Column, index: int, row: int, rows: tuple[int, int],
                  index_of: dict[str, int], conditions: list[tuple[int, str]]) -> str:
    """The formula of one totals cell in row `row`, summing the data rows `rows` (first, last)
    that pass `conditions`."""
    spec = column.total
    top, bottom = rows

    def at(name: str) -> str:
        return _cell(row, index_of[name])

    if isinstance(spec, Sum):
        span = f"{_cell(top, index, True)}:{_cell(bottom, index, True)}"
        if not conditions:
            return f"=SUBTOTAL(9,{span})"
        first = _cell(top, index, True)
        tests = "".join(
            f',--({_cell(top, c, True)}:{_cell(bottom, c, True)}="{value.replace(chr(34), chr(34) * 2)}")'
            for c, value in conditions)
        return f"=SUMPRODUCT(SUBTOTAL(9,OFFSET({first},ROW({span})-ROW({first}),0)){tests})"
    if isinstance(spec, Ratio):
        numerator, denominator = at(spec.numerator), at(spec.denominator)
        scale = "" if spec.scale == 1 else f"*{spec.scale}"
        return (f'=IF(OR({numerator}="",{denominator}="",{denominator}=0),"",'
                f'{numerator}{scale}/{denominator})')
    if isinstance(spec, Difference):
        a, b = at(spec.minuend), at(spec.subtrahend)
        return f'=IF(OR({a}="",{b}=""),"",{a}-{b})'
    assert isinstance(spec, Change)
    a, b = at(spec.current), at(spec.previous)
    return f'=IF(OR({a}="",{b}="",{b}=0),"",({a}-{b})/{b})'


def _colour_against_goals(worksheet: Any, sheet: Sheet, last_row: int, good: Any, bad: Any) -> None:
    for index, column in enumerate(sheet.columns):
        target = sheet.goals.get(column.name)
        if target is None or column.better not in ("lower", "higher"):
            continue
        cells = (1, index, last_row, index)
        good_rule, bad_rule = ("<=", ">") if column.better == "lower" else (">=", "<")
        worksheet.conditional_format(*cells, {"type": "cell", "criteria": good_rule,
                                              "value": float(target), "format": good})
        worksheet.conditional_format(*cells, {"type": "cell", "criteria": bad_rule,
                                              "value": float(target), "format": bad})


def _add_chart(workbook: Any, worksheet: Any, sheet: Sheet, name: str, last_row: int) -> None:
    names = [c.name for c in sheet.columns]
    if not sheet.chart_metric or sheet.chart_metric not in names or "date" not in names:
        return
    x, y = names.index("date"), names.index(sheet.chart_metric)
    quoted = "'" + name.replace("'", "''") + "'"
    chart = workbook.add_chart({"type": "line"})
    chart.add_series({
        "name": sheet.columns[y].label,
        "categories": f"={quoted}!{xl_rowcol_to_cell(1, x, True, True)}:{xl_rowcol_to_cell(last_row, x, True, True)}",
        "values": f"={quoted}!{xl_rowcol_to_cell(1, y, True, True)}:{xl_rowcol_to_cell(last_row, y, True, True)}",
    })
    metric = sheet.columns[y]
    unit = sheet.currency if metric.kind is ColumnKind.MONEY and sheet.currency else ""
    chart.set_title({"name": f"{metric.label} over time"})
    chart.set_x_axis({"name": sheet.columns[x].label, "date_axis": True,
                      "num_format": "yyyy-mm-dd", "major_tick_mark": "outside"})
    chart.set_y_axis({"name": f"{metric.label} ({unit})" if unit else metric.label,
                      "major_gridlines": {"visible": True}})
    chart.set_legend({"none": True})
    worksheet.insert_chart(1, len(sheet.columns) + 1, chart)
