"""Stand-in for Seznam Sklik's Drak v5 JSON API (`POST /drak/json/v5/{method}`)."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tests.stubs.base import Request, Response, StubServer

PREFIX = "/drak/json/v5/"


@dataclass
class SklikAccount:
    user_id: int
    username: str
    # campaign name → list of (day, impressions, clicks, totalMoney in halers, conversions,
    # conversionValue in halers)
    campaigns: dict[str, list[tuple[date, int, int, int, int, int]]] = field(default_factory=dict)
    # The landing-page world, as `<entity>.list` reads it: campaigns and groups by id with
    # their `name`, `status` ("active" / "suspend") and `deleted`; groups name their
    # `campaign`, ads and keywords their `group`; every entity its own `id`.
    entity_campaigns: dict[int, dict[str, Any]] = field(default_factory=dict)
    entity_groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    ads: list[dict[str, Any]] = field(default_factory=list)
    keywords: list[dict[str, Any]] = field(default_factory=list)
    sitelinks: list[dict[str, Any]] = field(default_factory=list)


class SklikStub(StubServer):
    """Knobs: `fail_next` (list of ("http"|"body"|"oddity", status), "garbage" or "partial"
    for a 206 answer with diagnostics), `fail_calls` (method → what its next calls answer:
    None as usual, else a `fail_next` entry), `expire_sessions()`,
    `tokens` (token → agency user id), `stats_data_limit`, `omit_total_count`. Entities
    without statistics are left out of readReport pages unless `allowEmptyStatistics`."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, int] = {}
        self.accounts: dict[int, SklikAccount] = {}
        self.managed: dict[int, list[int]] = {}
        self.sessions: dict[str, int] = {}
        self.reports: dict[str, tuple[int, str, date, date, str]] = {}
        self.fail_next: list[Any] = []
        self.fail_calls: dict[str, list[Any]] = {}
        self.stats_data_limit = 100
        self.list_limit = 100  # `global.list` of api.limits: the most items a list page holds
        self.omit_total_count = False  # createReport answers without `totalCount`
        self._ids = itertools.count(1000)

    @property
    def base_url(self) -> str:
        return self.url + PREFIX.rstrip("/")

    def add_login(self, token: str, user_id: int, username: str,
                  managed: list[SklikAccount] | None = None) -> SklikAccount:
        own = SklikAccount(user_id, username)
        self.accounts[user_id] = own
        self.tokens[token] = user_id
        self.managed[user_id] = []
        for account in managed or []:
            self.accounts[account.user_id] = account
            self.managed[user_id].append(account.user_id)
        return own

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def _new_session(self, user_id: int) -> str:
        session = "6|" + hashlib.sha256(str(next(self._ids)).encode()).hexdigest()[:24]
        self.sessions[session] = user_id
        return session

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.startswith(PREFIX):
            return Response(404, b"Not Found")
        planned = self.fail_calls.get(request.path[len(PREFIX):])
        if planned:
            failure = planned.pop(0)
            if failure is not None:
                self.fail_next.insert(0, failure)
        partial = bool(self.fail_next) and self.fail_next[0] == "partial"
        if partial:
            self.fail_next.pop(0)
        if self.fail_next:
            failure = self.fail_next.pop(0)
            if failure == "redirect":
                return Response.redirect("http://127.0.0.1:9/steal-the-body")
            if failure == "garbage":
                return Response(200, b"<html>Service Unavailable</html>",
                                {"Content-Type": "text/html"})
            where, status = failure
            if where == "http":
                headers = {"Retry-After": "0"} if status == 429 else {}
                return Response.json({"status": status, "statusMessage": "Error"}, status,
                                     **headers)
            if where == "oddity":
                return Response.json({"status": "error", "message": "Server error", "code": 500})
            return Response.json({"status": status, "statusMessage": "Error"})
        method = request.path[len(PREFIX):]
        try:
            params = request.json()
        except ValueError:
            return Response.json({"status": 400, "statusMessage": "Invalid JSON"}, 400)
        if method == "client.loginByToken":
            token = params[0] if isinstance(params, list) else params
            if token not in self.tokens:
                return Response.json({"status": 401, "statusMessage": "Invalid token"}, 401)
            return Response.json({"status": 200, "statusMessage": "OK",
                                  "session": self._new_session(self.tokens[token])})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return Response.json({"status": 404, "statusMessage": "Method not found"}, 404)
        if not isinstance(params, list) or not params or not isinstance(params[0], dict):
            return Response.json({"status": 400, "statusMessage": "Bad parameters"}, 400)
        auth = params[0]
        login = self.sessions.get(str(auth.get("session")))
        if login is None:
            return Response.json({"status": 401, "statusMessage": "Session has expired"})
        target = auth.get("userId", login)
        if target != login and target not in self.managed.get(login, []):
            return Response.json({"status": 403, "statusMessage": "Access denied",
                                  "session": self._new_session(login)})
        answer = handler(login, self.accounts[target], params[1:])
        if answer.get("status", 200) == 200:
            answer = {"status": 200, "statusMessage": "OK", **answer}
            if partial:
                answer.update(status=206, statusMessage="Partial",
                              diagnostics=[{"id": "userId", "message": "some data missing"}])
        answer["session"] = self._new_session(login)
        return Response.json(answer)

    def _api_limits(self, login: int, account: SklikAccount, params: list[Any]) -> dict[str, Any]:
        return {"batchCallLimits": [{"name": "global.list", "limit": self.list_limit}],
                "statsDataLimit": self.stats_data_limit}

    def _client_get(self, login: int, account: SklikAccount, params: list[Any]) -> dict[str, Any]:
        user = self.accounts[login]
        return {
            "user": {"userId": user.user_id, "username": user.username, "agencyStatus": "normal",
                     "walletCredit": 0, "dayBudgetSum": 0, "accountLimit": None},
            "foreignAccounts": [
                {"userId": a, "username": self.accounts[a].username, "access": "rw",
                 "relationStatus": "live", "relationType": "normal", "walletCredit": 0}
                for a in self.managed[login]
            ],
        }

    def _groups_createReport(self, login: int, account: SklikAccount,  # noqa: N802
                             params: list[Any]) -> dict[str, Any]:
        return self._campaigns_createReport(login, account, params, entity="groups")

    def _groups_readReport(self, login: int, account: SklikAccount,  # noqa: N802
                           params: list[Any]) -> dict[str, Any]:
        return self._campaigns_readReport(login, account, params)

    def _keywords_createReport(self, login: int, account: SklikAccount,  # noqa: N802
                               params: list[Any]) -> dict[str, Any]:
        return self._campaigns_createReport(login, account, params, entity="keywords")

    def _keywords_readReport(self, login: int, account: SklikAccount,  # noqa: N802
                             params: list[Any]) -> dict[str, Any]:
        return self._campaigns_readReport(login, account, params)

    def _campaigns_createReport(self, login: int, account: SklikAccount,  # noqa: N802
                                params: list[Any], entity: str = "campaigns") -> dict[str, Any]:
        restriction = params[0] if params else {}
        options = params[1] if len(params) > 1 else {}
        try:
            date_from = date.fromisoformat(restriction["dateFrom"])
            date_to = date.fromisoformat(restriction["dateTo"])
        except (KeyError, TypeError, ValueError):
            return {"status": 400, "statusMessage": "Invalid restrictionFilter",
                    "diagnostics": [{"id": "dateFrom", "message": "required"}]}
        report_id = str(next(self._ids))
        self.reports[report_id] = (account.user_id, entity, date_from, date_to,
                                   options.get("statGranularity", "total"))
        if self.omit_total_count:
            return {"reportId": report_id}
        return {"reportId": report_id, "totalCount": len(account.campaigns)}

    def _campaigns_readReport(self, login: int, account: SklikAccount,  # noqa: N802
                              params: list[Any]) -> dict[str, Any]:
        report = self.reports.get(str(params[0])) if params else None
        if report is None or report[0] != account.user_id:
            return {"status": 404, "statusMessage": "Report not found"}
        _, entity, date_from, date_to, granularity = report
        options = params[1] if len(params) > 1 else {}
        offset, limit = int(options.get("offset", 0)), int(options.get("limit", 100))
        periods = (date_to - date_from).days + 1 if granularity == "daily" else 1
        if limit * periods > self.stats_data_limit:
            return {"status": 400, "statusMessage": "Too much data requested",
                    "diagnostics": [{"id": "limit", "message": "statsDataLimit exceeded"}]}
        allow_empty = bool(options.get("allowEmptyStatistics", False))
        rows = []
        names = sorted(account.campaigns)
        for index, name in enumerate(names[offset:offset + limit], start=offset):
            days = [d for d in account.campaigns[name] if date_from <= d[0] <= date_to
                    and any(d[1:])]
            if granularity == "daily":
                stats = [_stat(d[0].strftime("%Y%m%d"), d[1:]) for d in days]
            else:
                sums = [sum(d[i] for d in days) for i in range(1, 6)]
                stats = [_stat(None, tuple(sums))] if days else []
            if not stats and not allow_empty:
                # As Drak may: an entity without statistics is left out of its page, which
                # then holds fewer rows than the limit although more pages follow.
                continue
            if entity == "keywords":  # one keyword in one ad group per campaign here
                rows.append({"id": 500 + index, "name": f"buy {name.lower()}",
                             "group.name": f"{name} — Core", "campaign.name": name,
                             "matchType": "phrase", "stats": stats})
            elif entity == "groups":  # one ad group per campaign in this stand-in
                rows.append({"id": 100 + index, "name": f"{name} — Core", "campaign.name": name,
                             "stats": stats})
            else:
                rows.append({"id": index + 1, "name": name, "status": "active", "stats": stats})
        return {"report": rows}


    def _ads_list(self, login: int, account: SklikAccount, params: list[Any]) -> dict[str, Any]:
        return self._listing("ads", account.ads, account, params)

    def _keywords_list(self, login: int, account: SklikAccount,
                       params: list[Any]) -> dict[str, Any]:
        return self._listing("keywords", account.keywords, account, params)

    def _sitelinks_list(self, login: int, account: SklikAccount,
                        params: list[Any]) -> dict[str, Any]:
        return self._listing("sitelinks", account.sitelinks, account, params)

    def _listing(self, name: str, items: list[dict[str, Any]], account: SklikAccount,
                 params: list[Any]) -> dict[str, Any]:
        """A page of `<entity>.list`: only the display columns asked for, parents' columns as
        nested objects (`group.name` → `{"group": {"name": …}}`), `totalCount` of them all."""
        options = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
        offset, limit = int(options.get("offset", 0)), int(options.get("limit", 100))
        columns = options.get("displayColumns") or ["id"]
        if limit > self.list_limit:
            return {"status": 400, "statusMessage": "Too many items requested",
                    "diagnostics": [{"id": "limit", "message": "global.list exceeded"}]}
        page = []
        for item in items[offset:offset + limit]:
            group = account.entity_groups.get(item.get("group"), {})
            campaign = account.entity_campaigns.get(group.get("campaign"), {})
            whole = {"id": item["id"], "status": "active", "deleted": False, **item,
                     "group": {"id": item.get("group"), **group},
                     "campaign": {"id": group.get("campaign"), **campaign}}
            row: dict[str, Any] = {}
            for column in columns:
                parent, _, key = column.partition(".")
                if key:
                    value = whole.get(parent, {}).get(key)
                    if value is not None:
                        row.setdefault(parent, {})[key] = value
                elif whole.get(column) is not None:
                    row[column] = whole[column]
            page.append(row)
        return {name: page, "totalCount": len(items)}


def _stat(day: str | None, values: tuple[int, ...]) -> dict[str, Any]:
    impressions, clicks, money, conversions, value = values
    stat = {"impressions": impressions, "clicks": clicks, "totalMoney": money,
            "conversions": conversions, "conversionValue": value}
    if day is not None:
        stat["date"] = int(day)
    return stat


def daily_rows(first: date, days: int, seed: int = 1) -> list[tuple[date, int, int, int, int, int]]:
    """Deterministic daily stats for a campaign (money in halers)."""
    return [(first + timedelta(days=i), 100 * seed + i, 10 + i, 12345 + i * 101, i % 3,
             45905 * (i % 3)) for i in range(days)]
