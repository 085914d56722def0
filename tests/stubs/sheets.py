"""A stand-in for the Google Sheets API v4 on loopback: an in-memory set of spreadsheets."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from tests.stubs.base import Request, Response, StubServer

_RANGE = re.compile(r"^'((?:[^']|'')+)'(?:!([A-Z]+)(\d+))?$|^([^!']+)(?:!([A-Z]+)(\d+))?$")


def _error(status: int, code: str, message: str, **headers: str) -> Response:
    return Response.json({"error": {"code": status, "message": message, "status": code}}, status, **headers)


class SheetsStub(StubServer):
    """`spreadsheets[id][tab]` is a list of rows; `shared` holds ids the token's user may edit;
    `titles[id]` the spreadsheet's title. `refuse_create` answers spreadsheets.create as Google
    does for a grant without a Sheets scope."""

    def __init__(self, token_valid: Callable[[str], bool]) -> None:
        super().__init__()
        self.token_valid = token_valid
        self.spreadsheets: dict[str, dict[str, list[list[Any]]]] = {}
        self.shared: set[str] = set()
        self.titles: dict[str, str] = {}
        self.busy = 0  # answer this many requests with 429
        self.refuse_create = False

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
        if request.path == "/v4/spreadsheets" and request.method == "POST":
            return self._create(request.json())
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
            return Response.json(self._spreadsheet(spreadsheet_id))
        if request.method == "POST" and rest == ":batchUpdate":
            return self._batch_update(book, spreadsheet_id, request.json())
        if request.method == "POST" and rest == "/values:batchClear":
            return self._clear(book, spreadsheet_id, request.json())
        if request.method == "POST" and rest == "/values:batchUpdate":
            return self._write(book, spreadsheet_id, request.json())
        return _error(404, "NOT_FOUND", "Requested entity was not found.")

    def _spreadsheet(self, spreadsheet_id: str) -> dict[str, Any]:
        """A `Spreadsheet` resource as spreadsheets.get and spreadsheets.create return it."""
        return {
            "spreadsheetId": spreadsheet_id,
            "properties": {"title": self.titles.get(spreadsheet_id, "Report"), "locale": "en_US",
                           "autoRecalc": "ON_CHANGE", "timeZone": "Etc/GMT"},
            "sheets": [{"properties": {"sheetId": n, "title": t, "index": n, "sheetType": "GRID",
                                       "gridProperties": {"rowCount": 1000, "columnCount": 26}}}
                       for n, t in enumerate(self.spreadsheets[spreadsheet_id])],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"}

    def _create(self, body: dict[str, Any]) -> Response:
        """spreadsheets.create: the body is a Spreadsheet; its id and address are Google's."""
        if self.refuse_create:
            return _error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")
        if "spreadsheetId" in body:
            return _error(400, "INVALID_ARGUMENT", "Invalid value at 'spreadsheet.spreadsheet_id'.")
        tabs = [s["properties"]["title"] for s in body.get("sheets", []) if s.get("properties", {}).get("title")]
        if len(set(tabs)) != len(tabs):
            return _error(400, "INVALID_ARGUMENT", "Invalid spreadsheet: duplicate sheet names.")
        spreadsheet_id = "1" + secrets.token_urlsafe(32)[:43]
        self.create(spreadsheet_id, *tabs)  # the creator may edit it
        self.titles[spreadsheet_id] = (body.get("properties") or {}).get("title") or "Untitled spreadsheet"
        return Response.json(self._spreadsheet(spreadsheet_id))

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
