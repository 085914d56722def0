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

from ppc_robot.lib.outputs.columns import Column, ColumnKind, neutralise_formula

NUMBER_FORMATS = {
    ColumnKind.INTEGER: "#,##0",
    ColumnKind.DECIMAL: "#,##0.00",
    ColumnKind.PERCENT: "0.00%",
    ColumnKind.RATIO: "0.00",
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
        self._taken: set[str] = set()
        self._sheets: list[SheetWriter] = []
        self.rows = 0

    def add_sheet(self, sheet: Sheet) -> SheetWriter:
        """A new sheet with the header of `sheet` (its rows are not read: give them to `write`)."""
        writer = SheetWriter(self._workbook, sheet, sheet_name(sheet.name, self._taken), self._header,
                             self._formats)
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
        for index, column in enumerate(sheet.columns):
            worksheet.set_column(index, index, column.width)
            worksheet.write_string(0, index, column.label, header)
        worksheet.freeze_panes(1, 0)
        # Per column: how its values are written, with which number format.
        self._plan = [
            (index, _TEXT, None) if column.kind is ColumnKind.TEXT
            else (index, _DATE, formats[ColumnKind.DATE]) if column.kind is ColumnKind.DATE
            else (index, _NUMBER, money if column.kind is ColumnKind.MONEY else formats.get(column.kind))
            for index, column in enumerate(sheet.columns)
        ]
        self.last_row = 0

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows (tuples in column order) after those already written; None leaves a cell empty."""
        worksheet, plan = self._worksheet, self._plan
        number, string = _WRITE_NUMBER, _WRITE_STRING
        row_number = self.last_row
        for row_number, row in enumerate(rows, start=self.last_row + 1):
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
        for offset, note in enumerate(sheet.notes, start=2):
            worksheet.write_string(last_row + offset, 0, neutralise_formula(note))
        if last_row:
            worksheet.autofilter(0, 0, last_row, len(sheet.columns) - 1)
            _colour_against_goals(worksheet, sheet, last_row, good, bad)
            _add_chart(self._workbook, worksheet, sheet, self._name, last_row)


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
