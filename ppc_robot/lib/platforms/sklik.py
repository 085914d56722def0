"""Seznam Sklik through its Drak v5 JSON API: positional-array bodies, a session in each call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from ppc_robot.lib.models import ClientAccountStatus
from ppc_robot.lib.platforms.base import (
    LANDING_PAGE_ENTITIES,
    AccessDeniedError,
    BadRequestError,
    Identity,
    InvalidCredentialsError,
    LandingPage,
    PlatformError,
    PlatformSettingsError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    ReportRow,
    TemporaryError,
    to_decimal,
)
from ppc_robot.lib.platforms.http import make_http, retry_after_seconds, send, with_retries
from ppc_robot.lib.platforms.landing import landing_url, urls
from ppc_robot.lib.platforms.settings import PlatformSettings

logger = logging.getLogger(__name__)
NAME = "Sklik"
ADDRESS = "PPC_ROBOT_SKLIK_URL"
SKLIK_CURRENCY = "CZK"
SKLIK_TIME_ZONE = "Europe/Prague"
DEFAULT_STATS_DATA_LIMIT = 10_000
PAGE_LIMIT_MAX = 5_000
STAT_COLUMNS = ["impressions", "clicks", "totalMoney", "conversions", "conversionValue"]
# Which report entity carries the finest dimension asked for, and its columns. Drak's
# entity reports have no device split: the device dimension stays empty for Sklik.
ENTITIES = (
    ("keyword", "keywords", ["id", "name", "group.name", "campaign.name"]),
    ("ad_group", "groups", ["id", "name", "campaign.name"]),
    ("campaign", "campaigns", ["id", "name"]),
)

# Landing pages: the `<entity>.list` methods, paged by offset and limit (at most the
# `global.list` batch limit of `api.limits`). A deleted entity, or one in a deleted group or
# campaign, is skipped; `status` "suspend" at any level is paused.
DEFAULT_LIST_LIMIT = 100
_PARENT_COLUMNS = ["group.id", "group.name", "group.status", "group.deleted", "campaign.id",
                   "campaign.name", "campaign.status", "campaign.deleted"]
LANDING_LISTS = (
    ("ads", ["id", "finalUrl", "mobileFinalUrl", "status", "deleted", *_PARENT_COLUMNS],
     (("ad", "finalUrl"), ("ad_mobile", "mobileFinalUrl"))),
    ("keywords", ["id", "name", "finalUrl", "status", "deleted", *_PARENT_COLUMNS],
     (("keyword", "finalUrl"),)),
    # Sitelinks belong to the account and are shared by its campaigns and groups.
    ("sitelinks", ["id", "name", "url", "status", "deleted"], (("sitelink", "url"),)),
)


def _halers(value: Any) -> Decimal:
    return to_decimal(value).scaleb(-2)


def _stat_date(value: Any) -> date | None:
    text = str(value or "")
    if len(text) >= 8 and text[:8].isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    if len(text) >= 10 and text[4] == "-":
        return date.fromisoformat(text[:10])
    return None


class SklikClient:
    """One Sklik login (an API token); sessions are renewed from every answer."""

    def __init__(self, credentials: dict[str, Any], settings: PlatformSettings,
                 before_call: Callable[[], None] | None = None) -> None:
        self._token = str(credentials.get("token") or "")
        self._settings = settings
        self._http = make_http(settings, settings.sklik_url.rstrip("/") + "/")
        self._session: str | None = None
        self._before_call = before_call or (lambda: None)
        self._list_limit_value: int | None = None  # api.limits' global.list, read once

    def updated_credentials(self) -> dict[str, Any] | None:
        return None

    def check_credentials(self) -> Identity:
        user = self._call("client.get")["user"]
        return Identity(str(user["userId"]), str(user.get("username") or user["userId"]))

    def list_accounts(self) -> list[RemoteAccount]:
        answer = self._call("client.get")
        # The login's own account carries campaigns of its own, whether or not it also
        # manages others (foreign accounts), so it is always one of the client accounts.
        owners = [answer["user"]] + [a for a in answer.get("foreignAccounts") or []
                                     if a.get("relationStatus", "live") == "live"]
        accounts: dict[str, RemoteAccount] = {}
        for owner in owners:
            user_id = str(owner["userId"])
            accounts.setdefault(user_id, RemoteAccount(
                user_id, str(owner.get("username") or user_id), SKLIK_CURRENCY,
                SKLIK_TIME_ZONE, ClientAccountStatus.ACTIVE))
        return list(accounts.values())

    def fetch_report(self, request: ReportRequest) -> Iterator[ReportRow]:
        wanted = set(request.dimensions)
        level, entity, columns = next(
            (e for e in ENTITIES if e[0] in wanted), ENTITIES[-1])
        by_entity = level in wanted
        user_id = int(request.account.external_id)
        daily = "date" in wanted
        created = self._call(
            f"{entity}.createReport",
            {"dateFrom": request.date_from.isoformat(), "dateTo": request.date_to.isoformat()},
            {"statGranularity": "daily" if daily else "total"},
            user_id=user_id,
        )
        report_id = created["reportId"]
        # Pages cover `limit` entities each, but without empty statistics Drak leaves the
        # entities that had none out of their page: a short page is not the last one. The
        # report's entity count says when every page was read; without it, empty entities
        # are asked for too, and then a short page is the last.
        count = str(created.get("totalCount", ""))
        total = int(count) if count.isdigit() else None
        periods = (request.date_to - request.date_from).days + 1 if daily else 1
        limit = max(1, min(PAGE_LIMIT_MAX, self._stats_data_limit() // periods))
        totals: dict[date | None, list[Any]] = {}
        offset = 0
        while total is None or offset < total:
            page = self._call(
                f"{entity}.readReport", report_id,
                {"offset": offset, "limit": limit, "allowEmptyStatistics": total is None,
                 "displayColumns": columns + STAT_COLUMNS},
                user_id=user_id,
            ).get("report") or []
            for item in page:
                for row in self._rows(item, level, daily):
                    if by_entity:
                        yield row
                    else:  # only the date asked for: sum the campaigns per day
                        sums = totals.setdefault(row.date, [0, 0, Decimal(0), Decimal(0),
                                                            Decimal(0)])
                        for i, amount in enumerate((row.impressions, row.clicks, row.cost,
                                                    row.conversions, row.conversion_value)):
                            sums[i] += amount
            if total is None and len(page) < limit:
                break
            offset += limit
        for day in sorted(totals, key=lambda d: d or date.min):
            s = totals[day]
            yield ReportRow(date=day, impressions=s[0], clicks=s[1], cost=s[2],
                            conversions=s[3], conversion_value=s[4])

    def _rows(self, item: dict[str, Any], level: str, daily: bool) -> Iterator[ReportRow]:
        names = {
            "campaign": item.get("campaign.name") or (item.get("campaign") or {}).get("name")
            if level != "campaign" else item.get("name"),
            "ad_group": (item.get("group.name") or (item.get("group") or {}).get("name")
                         if level == "keyword" else item.get("name"))
            if level in ("keyword", "ad_group") else None,
            "keyword": item.get("name") if level == "keyword" else None,
        }
        for stat in item.get("stats") or []:
            yield ReportRow(
                date=_stat_date(stat.get("date")) if daily else None,
                campaign=names["campaign"], ad_group=names["ad_group"], keyword=names["keyword"],
                campaign_id=str(item["id"]) if level == "campaign" and "id" in item else None,
                impressions=int(stat.get("impressions") or 0),
                clicks=int(stat.get("clicks") or 0),
                cost=_halers(stat.get("totalMoney")),
                conversions=to_decimal(stat.get("conversions")),
                conversion_value=_halers(stat.get("conversionValue")),
            )

    def landing_pages(self, account: RemoteAccount,
                      entities: Sequence[str] = LANDING_PAGE_ENTITIES) -> Iterator[LandingPage]:
        """Final URLs of ads (and mobile final URLs), of keywords that have their own, and of
        the account's sitelinks. Sklik has no final-URL suffix; `{…}` parameters are filled at
        click time, so they are stripped (see landing.py)."""
        wanted = set(entities)
        user_id = int(account.external_id)
        for entity, columns, fields in LANDING_LISTS:
            kinds = [(kind, name) for kind, name in fields if kind in wanted]
            if not kinds:
                continue
            for item in self._listing(entity, columns, user_id, self._list_limit()):
                yield from _landing_pages(item, kinds)

    def _listing(self, entity: str, columns: list[str], user_id: int,
                 limit: int) -> Iterator[dict[str, Any]]:
        """Every item of `<entity>.list`, page by page; `totalCount` says when all were read."""
        offset = 0
        while True:
            answer = self._call(f"{entity}.list", {},
                                {"offset": offset, "limit": limit, "displayColumns": columns},
                                user_id=user_id)
            page = answer.get(entity) or []
            yield from page
            offset += limit
            total = answer.get("totalCount")
            if len(page) < limit or (isinstance(total, int) and offset >= total):
                return

    def _list_limit(self) -> int:
        if self._list_limit_value is None:
            limits = self._call("api.limits").get("batchCallLimits") or []
            found = next((item.get("limit") for item in limits
                          if isinstance(item, dict) and item.get("name") == "global.list"), None)
            self._list_limit_value = (int(found) if str(found or "").isdigit()
                                      else DEFAULT_LIST_LIMIT)
        return self._list_limit_value

    def _stats_data_limit(self) -> int:
        answer = self._call("api.limits")
        return int(answer.get("statsDataLimit") or DEFAULT_STATS_DATA_LIMIT)

    # --- the wire -----------------------------------------------------------------------

    def _call(self, method: str, *params: Any, user_id: int | None = None) -> dict[str, Any]:
        """Call `method` with the session (logging in first, and again once on 401)."""
        return with_retries(self._settings, lambda: self._call_once(method, params, user_id))

    def _call_once(self, method: str, params: tuple[Any, ...], user_id: int | None) -> dict[str, Any]:
        if self._session is None:
            self._login()
        try:
            return self._post(method, [self._auth(user_id), *params])
        except _SessionExpired:
            self._login()
            try:
                return self._post(method, [self._auth(user_id), *params])
            except _SessionExpired as exc:
                raise InvalidCredentialsError(
                    "Sklik keeps refusing the session; link the login again.") from exc

    def _auth(self, user_id: int | None) -> dict[str, Any]:
        auth: dict[str, Any] = {"session": self._session}
        if user_id is not None:
            auth["userId"] = user_id
        return auth

    def _login(self) -> None:
        if not self._token:
            raise InvalidCredentialsError("No Sklik API token is stored for this login.")
        try:
            answer = self._post("client.loginByToken", [self._token])
        except _SessionExpired as exc:
            raise InvalidCredentialsError(
                "Sklik refused the API token: it is wrong or was deleted in Sklik's settings."
            ) from exc
        self._session = answer.get("session")
        if not self._session:
            raise TemporaryError("Sklik answered the login without a session.")

    def _post(self, method: str, body: list[Any]) -> dict[str, Any]:
        self._before_call()
        response = send(self._http, self._http.build_request("POST", method, json=body), NAME)
        answer = _json(response)
        status = answer.get("status")
        if isinstance(answer.get("session"), str) and answer["session"]:
            self._session = answer["session"]
        if 200 <= response.status_code < 300 and status in (200, 206):
            if status == 206:
                logger.info("sklik %s answered 206 with diagnostics", method)
            return answer
        raise _error(method, response, answer)


def _landing_pages(item: dict[str, Any], kinds: list[tuple[str, str]]) -> Iterator[LandingPage]:
    """The landing pages of one listed ad, keyword or sitelink; none when anything is deleted."""

    def field(name: str) -> Any:
        if name in item:
            return item[name]
        parent, _, key = name.partition(".")
        return (item.get(parent) or {}).get(key) if key else None

    if any(field(f"{level}deleted") for level in ("", "group.", "campaign.")):
        return
    paused = any(field(f"{level}status") == "suspend" for level in ("", "group.", "campaign."))
    ids = {name: str(field(name)) if field(name) is not None else None
           for name in ("group.id", "campaign.id")}
    for kind, name in kinds:
        for url in urls(field(name)):
            yield LandingPage(landing_url(url), kind, str(item.get("id", "")),
                              ids["campaign.id"], field("campaign.name"), ids["group.id"],
                              field("group.name"), paused=paused)


class _SessionExpired(PlatformError):
    """Status 401: the session (or, at login, the token) is not valid."""


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as exc:
        if response.status_code >= 500 or response.status_code < 300:
            raise TemporaryError(
                f"Sklik answered with something that is not JSON (HTTP {response.status_code})."
            ) from exc
        answer = {}
    if not isinstance(answer, dict):
        raise TemporaryError("Sklik answered with an unexpected body.")
    return answer


def _error(method: str, response: httpx.Response, answer: dict[str, Any]) -> PlatformError:
    raw = answer.get("status")
    status = raw if isinstance(raw, int) else (
        answer.get("code") if isinstance(answer.get("code"), int) else response.status_code)
    if raw == "error" and status < 500:
        status = 500
    if response.status_code >= 500:
        status = response.status_code
    message = str(answer.get("statusMessage") or answer.get("message") or "")
    detail = f" ({message})" if message else ""
    if response.status_code == 404:
        # Drak answers an unknown method with HTTP 404; ours are all real, so the address
        # is wrong (a missing entity is a 404 in the body of an HTTP 200).
        return PlatformSettingsError(
            f"Sklik has no API method {method} at the configured address (HTTP 404); the "
            f"administrator must correct {ADDRESS}. The login itself was not touched.", ADDRESS)
    if status == 401 or response.status_code == 401:
        return _SessionExpired("Sklik refused the session.")
    if status == 429 or response.status_code == 429:
        return RateLimitedError("Sklik's rate limit was reached.", retry_after_seconds(response))
    if status == 403:
        return AccessDeniedError(f"Sklik denied access to that account{detail}.")
    if status >= 500:
        return TemporaryError(f"Sklik failed on its side{detail}; try again later.")
    diagnostics = answer.get("diagnostics") or answer.get("errors")
    if diagnostics:
        logger.info("sklik %s refused: %s", method, diagnostics)
    return BadRequestError(f"Sklik refused the request {method} with status {status}{detail}.")
