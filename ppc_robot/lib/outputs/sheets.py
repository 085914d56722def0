"""Google Sheets output over the Sheets REST API v4: the same spreadsheet, updated in place.

A spreadsheet can also be created (spreadsheets.create) for a job that names none.

Each run reads the spreadsheet's tabs, adds the report's tab when it is missing, clears it and
writes the rows (RAW, so no text becomes a formula). Base URL from config, so a stand-in
works in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from ppc_robot.lib.outputs.columns import Column, ColumnKind, neutralise_formula

ROWS_PER_REQUEST = 5000  # keeps each request well under the ~2 MB payload Google recommends


class SheetsError(Exception):
    """The Sheets API refused; `kind` is "missing", "denied", "auth", "busy" or "bad"."""

    def __init__(self, message: str, kind: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class SheetsWrite:
    spreadsheet_id: str
    tab: str
    rows: int
    url: str


def _a1(tab: str, cells: str = "") -> str:
    quoted = "'" + tab.replace("'", "''") + "'"
    return f"{quoted}!{cells}" if cells else quoted


def _cell(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if column.kind is ColumnKind.TEXT:
        return neutralise_formula(str(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        # A total of counts comes as Decimal: still a whole number in the sheet.
        return int(value) if column.kind is ColumnKind.INTEGER else float(value)
    return value


class SheetsClient:
    def __init__(self, base_url: str, access_token: str, *, timeout: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout,
                                  follow_redirects=False,
                                  headers={"Authorization": f"Bearer {access_token}"})

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise SheetsError(f"Google Sheets could not be reached ({type(exc).__name__}).", "busy") from exc
        if response.status_code < 400:
            return response.json() if response.content else {}
        try:
            message = response.json().get("error", {}).get("message", "")
        except ValueError:
            message = ""
        kind = {404: "missing", 403: "denied", 401: "auth", 429: "busy"}.get(response.status_code)
        if kind is None:
            kind = "busy" if response.status_code >= 500 else "bad"
        retry = response.headers.get("Retry-After")
        raise SheetsError(message or f"Google Sheets answered {response.status_code}.", kind,
                          float(retry) if retry and retry.isdigit() else None)

    def create(self, title: str, tabs: Sequence[str]) -> tuple[str, str]:
        """A new spreadsheet (spreadsheets.create) with these tabs; returns its id and address."""
        created = self._call("POST", "/v4/spreadsheets", json={
            "properties": {"title": title},
            "sheets": [{"properties": {"title": tab}} for tab in tabs]})
        return str(created["spreadsheetId"]), str(created.get("spreadsheetUrl") or "")

    def tabs(self, spreadsheet_id: str) -> tuple[list[str], str]:
        found = self._call("GET", f"/v4/spreadsheets/{quote(spreadsheet_id, safe='')}",
                           params={"fields": "spreadsheetId,properties.title,sheets.properties,spreadsheetUrl"})
        titles = [s["properties"]["title"] for s in found.get("sheets", [])]
        return titles, found.get("spreadsheetUrl", "")

    def add_tab(self, spreadsheet_id: str, title: str) -> None:
        self._call("POST", f"/v4/spreadsheets/{quote(spreadsheet_id, safe='')}:batchUpdate",
                   json={"requests": [{"addSheet": {"properties": {"title": title}}}]})

    def clear(self, spreadsheet_id: str, tab: str) -> None:
        self._call("POST", f"/v4/spreadsheets/{quote(spreadsheet_id, safe='')}/values:batchClear",
                   json={"ranges": [_a1(tab)]})

    def write(self, spreadsheet_id: str, tab: str, first_row: int, rows: list[list[Any]]) -> None:
        self._call("POST", f"/v4/spreadsheets/{quote(spreadsheet_id, safe='')}/values:batchUpdate",
                   json={"valueInputOption": "RAW",
                         "data": [{"range": _a1(tab, f"A{first_row}"), "majorDimension": "ROWS",
                                   "values": rows}]})


def write_google_sheet(client: SheetsClient, spreadsheet_id: str, tab: str,
                       columns: Sequence[Column], rows: Iterable[Sequence[Any]],
                       notes: Sequence[str] = ()) -> SheetsWrite:
    """Replace the tab's contents with the header and rows; returns where they went."""
    titles, url = client.tabs(spreadsheet_id)
    if tab not in titles:
        client.add_tab(spreadsheet_id, tab)
    client.clear(spreadsheet_id, tab)
    batch: list[list[Any]] = [[c.label for c in columns]]
    next_row, written = 1, 0
    for row in rows:
        batch.append([_cell(c, v) for c, v in zip(columns, row, strict=True)])
        written += 1
        if len(batch) >= ROWS_PER_REQUEST:
            client.write(spreadsheet_id, tab, next_row, batch)
            next_row += len(batch)
            batch = []
    batch += [[]] + [[neutralise_formula(note)] for note in notes] if notes else []
    if batch:
        client.write(spreadsheet_id, tab, next_row, batch)
    return SheetsWrite(spreadsheet_id, tab, written, url)
