"""The URL checker's table: an XLSX workbook with the sheets Broken, Redirects, Inconclusive and
All URLs (the status cell coloured), or the All URLs table as CSV or a Google Sheet.

No column declares a total (lib/outputs/totals.py): the counts that matter are per result, not
a sum of a column (HTTP status and response time do not add up, and a totals row would read as
one more URL to tools filtering the list). The counts per result stand in the notes instead,
under each XLSX sheet and the Google Sheet, and on the run's page."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from ppc_robot.lib.models import UrlCheck
from ppc_robot.lib.outputs import Column, ColumnKind, neutralise_formula
from ppc_robot.lib.urlcheck import STATUS_LABELS, UrlStatus, UrlUse

COLUMNS = [
    Column("status", "Status"),
    Column("url", "URL"),
    Column("http_status", "HTTP status", ColumnKind.INTEGER),
    Column("final_url", "Final URL"),
    Column("chain", "Redirect chain"),
    Column("error", "Problem"),
    Column("response_ms", "Response time (ms)", ColumnKind.INTEGER),
    Column("use_count", "Used", ColumnKind.INTEGER),
    Column("where_used", "Where used"),
]
INTEGERS = ("http_status", "response_ms", "use_count")
FILLS = {UrlStatus.OK: ("#C6EFCE", "#006100"), UrlStatus.REDIRECT: ("#DDEBF7", "#1F4E78"),
         UrlStatus.INCONCLUSIVE: ("#FFEB9C", "#9C5700"), UrlStatus.BROKEN: ("#FFC7CE", "#9C0006"),
         UrlStatus.MALFORMED: ("#FFC7CE", "#9C0006")}
SHEETS = (("Broken", (UrlStatus.BROKEN, UrlStatus.MALFORMED)), ("Redirects", (UrlStatus.REDIRECT,)),
          ("Inconclusive", (UrlStatus.INCONCLUSIVE,)), ("All URLs", tuple(UrlStatus)))


def uses_of(check: UrlCheck) -> list[UrlUse]:
    return [UrlUse(**use) for use in check.uses]


def row_of(check: UrlCheck) -> dict[str, Any]:
    """One URL's output row."""
    status = UrlStatus(check.status) if check.status else None
    uses = uses_of(check)
    return {
        "status": STATUS_LABELS[status] if status else "Not checked",
        "url": check.url,
        "http_status": check.http_status,
        "final_url": check.final_url or "",
        "chain": " | ".join(check.chain or []),
        "error": check.error or "",
        "response_ms": check.response_ms,
        "use_count": len(uses),
        "where_used": "; ".join(use.describe() for use in uses),
    }


def checks_frame(checks: Sequence[UrlCheck]) -> pl.DataFrame:
    """Every URL's row, for CSV and Google Sheets."""
    schema = {c.name: (pl.Int64 if c.name in INTEGERS else pl.String) for c in COLUMNS}
    return pl.DataFrame([row_of(c) for c in checks], schema=schema, orient="row")


def frames_of(checks: Sequence[UrlCheck]) -> Iterator[pl.DataFrame]:
    yield checks_frame(checks)


def write_checks_xlsx(path: Path, checks: Sequence[UrlCheck], notes: Sequence[str]) -> None:
    """The four sheets; each starts with its header, ends with the notes."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                              "strings_to_urls": False})
    header = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "bottom": 1})
    fills = {status: workbook.add_format({"bg_color": bg, "font_color": fg})
             for status, (bg, fg) in FILLS.items()}
    italic = workbook.add_format({"italic": True})
    for title, statuses in SHEETS:
        sheet = workbook.add_worksheet(title)
        for index, column in enumerate(COLUMNS):
            sheet.set_column(index, index, 48 if column.name in ("url", "final_url", "error",
                                                                 "where_used", "chain") else 14)
            sheet.write_string(0, index, column.label, header)
        sheet.freeze_panes(1, 2)
        number = 0
        for check in checks:
            if check.status not in statuses:
                continue
            number += 1
            values = row_of(check)
            for index, column in enumerate(COLUMNS):
                value = values[column.name]
                if value is None or value == "":
                    continue
                if column.name == "status":
                    sheet.write_string(number, index, value, fills[UrlStatus(check.status)])
                elif isinstance(value, int):
                    sheet.write_number(number, index, value)
                else:
                    sheet.write_string(number, index, neutralise_formula(str(value)))
        if number:
            sheet.autofilter(0, 0, number, len(COLUMNS) - 1)
        else:
            sheet.write_string(1, 0, "None.", italic)
            number = 1
        for offset, note in enumerate(notes, start=2):
            sheet.write_string(number + offset, 0, neutralise_formula(note), italic)
    workbook.close()
