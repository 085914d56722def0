"""The accounts overview as an XLSX workbook: the table with its cells coloured against the
clients' budgets and targets (green, amber, red from lib/pacing.py's signals), client and
total rows in bold, and a second sheet with a bar chart of each client's month-to-date spend
against its pro-rated budget.

The table is a few rows per client account, so it is written in one go (cell formats per
cell), not streamed like the performance report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter

from ppc_robot.lib.outputs import Column, ColumnKind
from ppc_robot.lib.outputs.columns import neutralise_formula
from ppc_robot.lib.outputs.totals import Totals
from ppc_robot.lib.outputs.xlsx import NUMBER_FORMATS, total_conditions, total_formula
from ppc_robot.lib.pacing import Signal
from ppc_robot.lib.reports.accounts_overview_table import Overview

FILLS = {Signal.GREEN: ("#C6EFCE", "#006100"), Signal.AMBER: ("#FFEB9C", "#9C5700"),
         Signal.RED: ("#FFC7CE", "#9C0006")}
COLOURED = {"pacing": "pacing", "cpa": "cpa", "roas": "roas", "pno": "pno"}


def write_overview_xlsx(path: Path, columns: Sequence[Column], overview: Overview,
                        frame: pl.DataFrame, counted: tuple[str, str], notes: Sequence[str]) -> None:
    """The workbook; `frame` holds the rows' values and the totals (a row per currency, the
    shared ones) sum those whose `counted` column has its value."""
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    cache: dict[tuple[str, str, Signal, bool], object] = {}

    def fmt(kind: ColumnKind, currency: str, signal: Signal, bold: bool) -> object:
        key = (kind.value, currency if kind is ColumnKind.MONEY else "", signal, bold)
        if key not in cache:
            options: dict[str, object] = {"bold": bold}
            if kind is ColumnKind.MONEY:
                options["num_format"] = f'#,##0.00 "{currency}"'
            elif kind in NUMBER_FORMATS:
                options["num_format"] = NUMBER_FORMATS[kind]
            if signal in FILLS:
                options["bg_color"], options["font_color"] = FILLS[signal]
            cache[key] = workbook.add_format(options)
        return cache[key]

    sheet = workbook.add_worksheet("Accounts overview")
    header = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "bottom": 1})
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width if column.kind is not ColumnKind.TEXT else 24)
        sheet.write_string(0, index, column.label, header)
    sheet.freeze_panes(1, 3)
    number = 0
    for number, row in enumerate(overview.rows, start=1):
        values = row.values()
        bold = row.kind != "account"
        for index, column in enumerate(columns):
            value = values[column.name]
            if value is None:
                continue
            signal = row.signals.get(COLOURED.get(column.name, ""), Signal.NONE)
            cell = fmt(column.kind, row.currency, signal, bold)
            if column.kind is ColumnKind.TEXT:
                sheet.write_string(number, index, neutralise_formula(str(value)), cell)
            else:
                sheet.write_number(number, index, float(value), cell)
    below = _write_totals(sheet, columns, frame, counted, number, fmt) if number else 0
    for offset, note in enumerate(notes, start=2 + below):
        sheet.write_string(number + offset, 0, neutralise_formula(note))
    if number:
        sheet.autofilter(0, 0, number, len(columns) - 1)
    _pacing_chart(workbook, overview)
    workbook.close()


def _write_totals(sheet: object, columns: Sequence[Column], frame: pl.DataFrame,
                  counted: tuple[str, str], last: int, fmt: Callable[..., object]) -> int:
    """A totals row per currency under the rows (SUBTOTAL formulas with cached values)."""
    totals = Totals(columns, count_where=counted)
    totals.add(frame)
    rows = totals.rows()
    index_of = {c.name: i for i, c in enumerate(columns)}
    for offset, row in enumerate(rows, start=1):
        number = last + offset
        conditions = total_conditions(totals, row.currency, index_of, several=len(rows) > 1)
        for index, (column, cell) in enumerate(zip(columns, totals.cells(row, columns), strict=True)):
            style = fmt(column.kind, row.currency, Signal.NONE, True)
            if column.total is None or index == 0:
                if cell is not None:
                    sheet.write_string(number, index, neutralise_formula(str(cell)), style)  # type: ignore[attr-defined]
                continue
            sheet.write_formula(number, index,  # type: ignore[attr-defined]
                                total_formula(column, index, number, (1, last), index_of, conditions),
                                style, float(cell) if cell is not None else "")
    return len(rows)


def _pacing_chart(workbook: xlsxwriter.Workbook, overview: Overview) -> None:
    """A sheet of each budgeted client's spend and pro-rated budget, and their bar chart."""
    clients = [r for r in overview.rows if r.kind == "client" and r.pacing and r.pacing.expected]
    sheet = workbook.add_worksheet("Pacing")
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    for index, label in enumerate(("Client", "Currency", "Spend month to date",
                                   "Budget pro-rated", "Monthly budget")):
        sheet.write_string(0, index, label, bold)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 4, 16)
    for number, row in enumerate(clients, start=1):
        assert row.pacing is not None
        sheet.write_string(number, 0, neutralise_formula(row.client))
        sheet.write_string(number, 1, row.currency)
        for index, amount in ((2, row.pacing.spend), (3, row.pacing.expected),
                              (4, row.pacing.budget)):
            sheet.write_number(number, index, float(amount or Decimal(0)), money)
    if not clients:
        sheet.write_string(1, 0, "No client in the report has a monthly budget.")
        return
    chart = workbook.add_chart({"type": "bar"})
    last = len(clients)
    for column, name in ((2, "Spend month to date"), (3, "Budget pro-rated")):
        chart.add_series({"name": name, "categories": ["Pacing", 1, 0, last, 0],
                          "values": ["Pacing", 1, column, last, column]})
    chart.set_title({"name": "Spend against the pro-rated budget"})
    sheet.insert_chart(1, 6, chart)
