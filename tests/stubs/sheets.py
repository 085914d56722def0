"""A stand-in for the Google Sheets API v4 on loopback: an in-memory set of spreadsheets."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from tests.stubs.base import Request, Response, StubServer

_RANGE = re.compile(r"^'((?:[^']|'')+)'(?:!([A-Z]+)(\d+))?$|^([^!']+)(?:!([A-Z]+)(\d+))?$")


def _error(status: int, code: str, message: str, **headers: str) -> Response:
    return Response.json({"error": {"code": status, "message": message, "status": code}}, status, **headers)


class SheetsStub(StubServer):
    """`spreadsheets[id][tab]` is a list of rows; `shared` holds ids the token's user may edit."""

    def __init__(self, token_valid: Callable[[str], bool]) -> None:
        super().__init__()
        self.token_valid = token_valid
        self.spreadsheets: dict[str, dict[str, list[list[Any]]]] = {}
        self.shared: set[str] = set()
        self.busy = 0  # answer this many requests with 429

    def create(self, spreadsheet_id: str, *tabs: str, shared: bool = True) -> None:
        self.spreadsheets[spreadsheet_id] = {tab: [] for tab in (tabs or ("Sheet1",))}
        if shared:
            self.shared.add(spreadsheet_id)

    def handle(self, request: Request) -> Response:
        token = (request.header("authorization") or "").removeprefix("Bearer ")
        if not self.token_valid(token):
            return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if self.busy:
            self.busy -= 1
            return _error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Write requests'.",
                          **{"Retry-After": "1"})
        match = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", request.path)
        if not match:
            return _error(404, "NOT_FOUND", "Requested entity was not found.")
        spreadsheet_id, rest = unquote(match.group(1)), match.group(2)
        if spreadsheet_id not in self.spreadsheets:
            return _error(404, "NOT_FOUND", "Requested entity was not found.")
        if spreadsheet_id not in self.shared:
            return _error(403, "PERMISSION_DENIED", "The caller does not have permission")
        book = self.spreadsheets[spreadsheet_id]
        if request.method == "GET" and rest == "":
            return Response.json({
                "spreadsheetId": spreadsheet_id, "properties": {"title": "Report"},
                "sheets": [{"properties": {"sheetId": n, "title": t, "index": n, "sheetType": "GRID"}}
                           for n, t in enumerate(book)],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"})
        if request.method == "POST" and rest == ":batchUpdate":
            return self._batch_update(book, spreadsheet_id, request.json())
        if request.method == "POST" and rest == "/values:batchClear":
            return self._clear(book, spreadsheet_id, request.json())
        if request.method == "POST" and rest == "/values:batchUpdate":
            return self._write(book, spreadsheet_id, request.json())
        return _error(404, "NOT_FOUND", "Requested entity was not found.")

    def _tab(self, book: dict[str, list[list[Any]]], a1: str) -> tuple[str | None, int]:
        match = _RANGE.match(a1)
        if not match:
            return None, 0
        tab = (match.group(1) or "").replace("''", "'") if match.group(1) else match.group(4)
        row = match.group(3) or match.group(6) or "1"
        return (tab if tab in book else None), int(row)

    def _batch_update(self, book: dict[str, list[list[Any]]], spreadsheet_id: str, body: dict[str, Any]) -> Response:
        replies = []
        for item in body.get("requests", []):
            title = item["addSheet"]["properties"]["title"]
            if title in book:
                return _error(400, "INVALID_ARGUMENT", f'Invalid requests[0].addSheet: A sheet with the name "{title}" already exists.')
            book[title] = []
            replies.append({"addSheet": {"properties": {"title": title, "sheetId": len(book)}}})
        return Response.json({"spreadsheetId": spreadsheet_id, "replies": replies})

    def _clear(self, book: dict[str, list[list[Any]]], spreadsheet_id: str, body: dict[str, Any]) -> Response:
        for a1 in body["ranges"]:
            tab, _ = self._tab(book, a1)
            if tab is None:
                return _error(400, "INVALID_ARGUMENT", f"Unable to parse range: {a1}")
            book[tab] = []
        return Response.json({"spreadsheetId": spreadsheet_id, "clearedRanges": body["ranges"]})

    def _write(self, book: dict[str, list[list[Any]]], spreadsheet_id: str, body: dict[str, Any]) -> Response:
        if body.get("valueInputOption") not in ("RAW", "USER_ENTERED"):
            return _error(400, "INVALID_ARGUMENT", "Invalid valueInputOption")
        cells = 0
        for block in body["data"]:
            tab, row = self._tab(book, block["range"])
            if tab is None:
                return _error(400, "INVALID_ARGUMENT", f"Unable to parse range: {block['range']}")
            rows = book[tab]
            while len(rows) < row - 1 + len(block["values"]):
                rows.append([])
            for offset, values in enumerate(block["values"]):
                rows[row - 1 + offset] = list(values)
                cells += len(values)
        return Response.json({"spreadsheetId": spreadsheet_id, "totalUpdatedCells": cells})
