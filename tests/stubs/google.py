"""Stand-ins for Google's OAuth 2 server and the Google Ads REST API, on one loopback port."""

from __future__ import annotations

import re
import secrets
import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from tests.stubs.base import Request, Response, StubServer

DEVELOPER_TOKEN = "stub-developer-token-22c"
CLIENT_ID = "stub-client.apps.googleusercontent.com"
CLIENT_SECRET = "stub-client-secret"
SEARCH_STREAM = re.compile(r"^/(v\d+)/customers/(\d+)/googleAds:searchStream$")
FROM = re.compile(r"SELECT (?P<fields>.+) FROM (?P<resource>\w+)(?: WHERE (?P<where>.+))?$",
                  re.IGNORECASE)
BETWEEN = re.compile(r"segments\.date BETWEEN '(\d{4}-\d{2}-\d{2})' AND '(\d{4}-\d{2}-\d{2})'")


@dataclass
class Entity:
    """A campaign, ad group, ad, keyword or sitelink asset link of the landing-page world: its
    GAQL fields by name (`campaign.id`, `ad_group_ad.ad.final_urls`…), as Google stores them."""

    resource: str  # campaign, ad_group, ad_group_ad, ad_group_criterion, *_asset
    fields: dict[str, Any]
    parent: str | None = None  # the id of its ad group, or campaign (for ad groups, links)


@dataclass
class Customer:
    id: str
    name: str
    currency: str = "CZK"
    time_zone: str = "Europe/Prague"
    manager: bool = False
    status: str = "ENABLED"
    children: list[str] = field(default_factory=list)
    # campaign name → [(day, impressions, clicks, cost_micros, conversions, value)]
    campaigns: dict[str, list[tuple[date, int, int, int, float, float]]] = field(
        default_factory=dict)
    # The landing-page world: campaigns, ad groups, ads, keywords and sitelink links.
    entities: list[Entity] = field(default_factory=list)
    final_url_suffix: str = ""


class GoogleStub(StubServer):
    """Knobs: `fail_next` ([(status, errorCode dict, retryDelay|None)] or "garbage"),
    `deny_consent`, `revoke(refresh_token)`, `expire_access_tokens()`, `accessible`,
    `access_token_seconds`, `cut_stream_after`, `sunset_versions`. A wrong developer token is
    answered 401 DEVELOPER_TOKEN_INVALID, a wrong OAuth client 401 invalid_client."""

    def __init__(self) -> None:
        super().__init__()
        self.redirect_uris: set[str] = set()
        self.customers: dict[str, Customer] = {}
        self.accessible: list[str] = []
        self.codes: dict[str, dict[str, str]] = {}
        self.refresh_tokens: set[str] = set()
        self.access_tokens: set[str] = set()
        self.deny_consent = False
        self.fail_next: list[Any] = []
        self.wrap_stream_errors = False
        self.access_token_seconds = 3599  # `expires_in` of the access tokens issued
        self.cut_stream_after: int | None = None  # searchStream ends after N whole batches
        self.sunset_versions: set[str] = set()  # API versions answered UNSUPPORTED_VERSION

    def add(self, customer: Customer) -> Customer:
        self.customers[customer.id] = customer
        return customer

    def revoke(self, refresh_token: str) -> None:
        self.refresh_tokens.discard(refresh_token)

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def issue_refresh_token(self) -> str:
        token = "1//stub-refresh-" + secrets.token_urlsafe(16)
        self.refresh_tokens.add(token)
        return token

    def handle(self, request: Request) -> Response:
        if request.path == "/o/oauth2/v2/auth" and request.method == "GET":
            return self._authorize(request)
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        if self.fail_next:
            failure = self._failure(self.fail_next.pop(0))
            if self.wrap_stream_errors and request.path.endswith("searchStream"):
                failure.body = b"[" + failure.body + b"]"  # as searchStream sometimes frames it
            return failure
        version = request.path.split("/")[1]
        if version in self.sunset_versions:
            return _ads_error(400, "INVALID_ARGUMENT", {"requestError": "UNSUPPORTED_VERSION"},
                              message=f"Version {version} is deprecated. Requests to this "
                                      "version will be blocked.")
        if request.header("developer-token") != DEVELOPER_TOKEN:
            return _ads_error(401, "UNAUTHENTICATED", {"authenticationError":
                                                       "DEVELOPER_TOKEN_INVALID"})
        bearer = (request.header("authorization") or "").removeprefix("Bearer ")
        if bearer not in self.access_tokens:
            return _ads_error(401, "UNAUTHENTICATED", {"authenticationError":
                                                       "OAUTH_TOKEN_EXPIRED"})
        if re.fullmatch(r"/v\d+/customers:listAccessibleCustomers", request.path):
            return Response.json({"resourceNames": [f"customers/{c}" for c in self.accessible]})
        match = SEARCH_STREAM.match(request.path)
        if match and request.method == "POST":
            return self._search_stream(match.group(2), request)
        return Response(404, b"Not Found", {"Content-Type": "text/html"})

    # --- OAuth ------------------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") not in self.redirect_uris:
            return Response(400, b"Error 400: redirect_uri_mismatch", {"Content-Type": "text/html"})
        back = {"state": q.get("state", "")}
        if self.deny_consent:
            back["error"] = "access_denied"
        else:
            code = "4/0Ab" + secrets.token_urlsafe(12)
            self.codes[code] = q
            back["code"] = code
            back["scope"] = q.get("scope", "")
        return Response.redirect(f"{q['redirect_uri']}?{urlencode(back)}")

    def _token(self, request: Request) -> Response:
        if not (request.header("content-type") or "").startswith(
                "application/x-www-form-urlencoded"):
            return _oauth_error(400, "invalid_request", "Form body required.")
        form = request.form()
        if form.get("client_id") != CLIENT_ID:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if form.get("client_secret") != CLIENT_SECRET:
            return _oauth_error(401, "invalid_client", "Unauthorized")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            asked = self.codes.pop(form.get("code", ""), None)  # codes are single-use
            if asked is None:
                return _oauth_error(400, "invalid_grant", "Malformed auth code.")
            if asked.get("redirect_uri") != form.get("redirect_uri"):
                return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
            if not _pkce_ok(asked, form.get("code_verifier", "")):
                return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
            tokens = self._access()
            if asked.get("access_type") == "offline":
                tokens["refresh_token"] = self.issue_refresh_token()
            return Response.json(tokens)
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
            return Response.json(self._access())
        return _oauth_error(400, "unsupported_grant_type", "Invalid grant_type.")

    def _access(self) -> dict[str, Any]:
        token = "ya29.stub-" + secrets.token_urlsafe(16)
        self.access_tokens.add(token)
        return {"access_token": token, "expires_in": self.access_token_seconds,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/adwords"}

    # --- Google Ads -------------------------------------------------------------------

    def _failure(self, failure: Any) -> Response:
        if failure == "garbage":
            return Response(200, b'[{"results": [', {"Content-Type": "application/json"})
        status, code, delay = failure
        details = {"quotaErrorDetails": {"rateScope": "ACCOUNT", "retryDelay": delay}} if delay else None
        names = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 400: "INVALID_ARGUMENT",
                 403: "PERMISSION_DENIED", 401: "UNAUTHENTICATED"}
        return _ads_error(status, names.get(status, "UNKNOWN"), code, details)

    def _search_stream(self, customer_id: str, request: Request) -> Response:
        body = request.json()
        if "pageSize" in body:
            return _ads_error(400, "INVALID_ARGUMENT", {"requestError": "PAGE_SIZE_NOT_SUPPORTED"})
        login = request.header("login-customer-id") or ""
        if not self._reachable(customer_id, login):
            return _ads_error(403, "PERMISSION_DENIED",
                              {"authorizationError": "USER_PERMISSION_DENIED"})
        match = FROM.match(" ".join(str(body.get("query", "")).split()))
        if not match:
            return _ads_error(400, "INVALID_ARGUMENT", {"queryError": "UNEXPECTED_END_OF_QUERY"})
        fields = [f.strip() for f in match.group("fields").split(",")]
        resource = match.group("resource")
        if resource in LANDING_RESOURCES:
            return self._landing(self.customers[customer_id], resource, fields,
                                 match.group("where") or "")
        known = {"customer_client", "customer", "campaign", "ad_group", "keyword_view"}
        if resource not in known:
            return _ads_error(400, "INVALID_ARGUMENT", {"queryError": "INVALID_RESOURCE_NAME"})
        customer = self.customers[customer_id]
        if resource == "customer_client":
            rows = [self._client_row(customer, customer, 0)] + [
                self._client_row(customer, self.customers[c], 1) for c in customer.children]
            return Response.json([{"results": rows, "fieldMask": ",".join(fields),
                                   "requestId": "stub"}] if rows else [])
        if any(f.startswith("metrics.") for f in fields) and customer.manager:
            return _ads_error(400, "INVALID_ARGUMENT",
                              {"queryError": "REQUESTED_METRICS_FOR_MANAGER"})
        between = BETWEEN.search(match.group("where") or "")
        if not between:
            return _ads_error(400, "INVALID_ARGUMENT",
                              {"queryError": "EXPECTED_FILTERS_ON_DATE_RANGE"})
        first, last = date.fromisoformat(between.group(1)), date.fromisoformat(between.group(2))
        results = []
        for name, days in sorted(customer.campaigns.items()):
            for day, impressions, clicks, cost, conversions, value in days:
                if first <= day <= last:
                    row: dict[str, Any] = {"metrics": {
                        "impressions": str(impressions), "clicks": str(clicks),
                        "costMicros": str(cost), "conversions": conversions,
                        "conversionsValue": value}}
                    if "campaign.name" in fields:
                        campaign_id = campaign_id_of(name)
                        row["campaign"] = {
                            "resourceName": f"customers/{customer_id}/campaigns/{campaign_id}",
                            "name": name, **({"id": campaign_id} if "campaign.id" in fields
                                             else {})}
                    # one ad group and one keyword per campaign, all on desktop, in this stand-in
                    if "ad_group.name" in fields:
                        row["adGroup"] = {"name": f"{name} — Core"}
                    if "ad_group_criterion.keyword.text" in fields:
                        row["adGroupCriterion"] = {"keyword": {"text": f"buy {name.lower()}",
                                                               "matchType": "PHRASE"}}
                    segments = {}
                    if "segments.date" in fields:
                        segments["date"] = day.isoformat()
                    if "segments.device" in fields:
                        segments["device"] = "DESKTOP"
                    if segments:
                        row["segments"] = segments
                    results.append(row)
        if resource == "customer":  # one row per day for the whole account
            results = _sum_by_date(results)
        batches = [results[i:i + 2] for i in range(0, len(results), 2)]
        answer = Response.json([{"results": b, "fieldMask": ",".join(fields),
                                 "requestId": "stub"} for b in batches])
        if self.cut_stream_after is not None:  # the connection dropped between two batches
            whole = Response.json([{"results": b, "fieldMask": ",".join(fields),
                                    "requestId": "stub"}
                                   for b in batches[:self.cut_stream_after]]).body
            answer.body = whole[:-1] + (b"," if self.cut_stream_after else b"")
        return answer

    def _landing(self, customer: Customer, resource: str, fields: list[str],
                 where: str) -> Response:
        """Attribute queries of the landing-page resources: rows joined with their ad group,
        campaign and customer, filtered by the WHERE conditions, streamed in batches of 2."""
        unknown = [f for f in fields if f.split(".")[0] not in LANDING_RESOURCES[resource]
                   or f not in SELECTABLE]
        if unknown:
            return _ads_error(400, "INVALID_ARGUMENT", {"queryError": "UNRECOGNIZED_FIELD"},
                              message=f"Unrecognized field in the query: '{unknown[0]}'.")
        try:
            conditions = _conditions(where)
        except ValueError:
            return _ads_error(400, "INVALID_ARGUMENT", {"queryError": "UNEXPECTED_INPUT"})
        by_id = {(e.resource, str(e.fields.get(f"{e.resource}.id"))): e for e in customer.entities
                 if e.resource in ("campaign", "ad_group")}
        rows = []
        for entity in customer.entities:
            if entity.resource != resource:
                continue
            flat = {"customer.final_url_suffix": customer.final_url_suffix, **entity.fields}
            group = by_id.get(("ad_group", str(entity.parent))) if resource in (
                "ad_group_ad", "ad_group_criterion", "ad_group_asset") else None
            campaign_id = group.parent if group else entity.parent
            campaign = by_id.get(("campaign", str(campaign_id)))
            for parent in (group, campaign):
                if parent is not None:
                    flat.update(parent.fields)
            if all(_holds(condition, flat) for condition in conditions):
                rows.append(_project(flat, fields))
        batches = [rows[i:i + 2] for i in range(0, len(rows), 2)]
        return Response.json([{"results": b, "fieldMask": ",".join(_camel(f) for f in fields),
                               "requestId": "stub"} for b in batches])

    def _reachable(self, customer_id: str, login: str) -> bool:
        if customer_id not in self.customers:
            return False
        root = login or customer_id
        if root not in self.accessible:
            return False
        seen, todo = set(), [root]
        while todo:
            current = todo.pop()
            if current == customer_id:
                return True
            seen.add(current)
            todo.extend(c for c in self.customers[current].children if c not in seen)
        return False

    def _client_row(self, root: Customer, customer: Customer, level: int) -> dict[str, Any]:
        return {"customerClient": {
            "resourceName": f"customers/{root.id}/customerClients/{customer.id}",
            "clientCustomer": f"customers/{customer.id}", "level": str(level),
            "manager": customer.manager, "descriptiveName": customer.name,
            "currencyCode": customer.currency, "timeZone": customer.time_zone,
            "id": customer.id, "status": customer.status}}


# Resources of the landing-page queries and the resources whose fields each may select.
LANDING_RESOURCES = {
    "ad_group_ad": {"customer", "campaign", "ad_group", "ad_group_ad"},
    "ad_group_criterion": {"customer", "campaign", "ad_group", "ad_group_criterion"},
    "customer_asset": {"customer", "customer_asset", "asset"},
    "campaign_asset": {"customer", "campaign", "campaign_asset", "asset"},
    "ad_group_asset": {"customer", "campaign", "ad_group", "ad_group_asset", "asset"},
}
_URLS = ("final_urls", "final_url_suffix", "url_custom_parameters")
SELECTABLE = {
    "customer.final_url_suffix",
    *(f"campaign.{f}" for f in ("id", "name", "status", "final_url_suffix",
                                "url_custom_parameters")),
    *(f"ad_group.{f}" for f in ("id", "name", "status", "final_url_suffix",
                                "url_custom_parameters")),
    "ad_group_ad.status", "ad_group_ad.ad.id", "ad_group_ad.ad.final_mobile_urls",
    *(f"ad_group_ad.ad.{f}" for f in _URLS),
    "ad_group_criterion.criterion_id", "ad_group_criterion.status", "ad_group_criterion.type",
    "ad_group_criterion.negative", "ad_group_criterion.keyword.text",
    "ad_group_criterion.final_mobile_urls", *(f"ad_group_criterion.{f}" for f in _URLS),
    "asset.id", "asset.sitelink_asset.link_text", *(f"asset.{f}" for f in _URLS),
    *(f"{link}.{f}" for link in ("customer_asset", "campaign_asset", "ad_group_asset")
      for f in ("status", "field_type")),
}
CONDITION = re.compile(r"^\s*([\w.]+)\s*(!=|=)\s*'?([\w]+)'?\s*$")


def _conditions(where: str) -> list[tuple[str, str, str]]:
    found = []
    for part in re.split(r"\s+AND\s+", where.strip(), flags=re.IGNORECASE) if where else []:
        match = CONDITION.match(part)
        if not match:
            raise ValueError(f"stand-in cannot read the condition {part!r}")
        found.append((match.group(1), match.group(2), match.group(3)))
    return found


def _holds(condition: tuple[str, str, str], flat: dict[str, Any]) -> bool:
    name, operator, literal = condition
    value = flat.get(name)
    if value is None and literal in ("TRUE", "FALSE"):
        value = False  # proto3: an unset boolean is false
    text = str(value).upper() if isinstance(value, bool) else str(value or "")
    return (text == literal) == (operator == "=")


def _camel(path: str) -> str:
    return ".".join(part.split("_")[0] + "".join(w.title() for w in part.split("_")[1:])
                    for part in path.split("."))


def _project(flat: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The proto3 JSON of the selected fields: camelCase, nested, int64 ids as strings, empty
    values left out."""
    row: dict[str, Any] = {}
    for name in fields:
        value = flat.get(name)
        if value in (None, "", []):
            continue
        if name.endswith((".id", ".criterion_id")):
            value = str(value)
        if name.endswith("url_custom_parameters"):
            value = [{"key": k, "value": v} for k, v in value.items()]
        *path, last = _camel(name).split(".")
        target = row
        for part in path:
            target = target.setdefault(part, {})
        target[last] = value
    return row


def campaign_id_of(name: str) -> str:
    """The stand-in's stable id of a campaign (an int64, sent as a JSON string)."""
    return str(zlib.crc32(name.encode()) or 1)


def _sum_by_date(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    days: dict[str, dict[str, Any]] = {}
    for row in rows:
        day = (row.get("segments") or {}).get("date", "")
        total = days.setdefault(day, {"metrics": {"impressions": "0", "clicks": "0",
                                                  "costMicros": "0", "conversions": 0.0,
                                                  "conversionsValue": 0.0},
                                      **({"segments": {"date": day}} if day else {})})
        for name in ("impressions", "clicks", "costMicros"):
            total["metrics"][name] = str(int(total["metrics"][name]) + int(row["metrics"][name]))
        for name in ("conversions", "conversionsValue"):
            total["metrics"][name] += row["metrics"][name]
    return [days[d] for d in sorted(days)]


def _pkce_ok(asked: dict[str, str], verifier: str) -> bool:
    import base64
    import hashlib

    challenge = asked.get("code_challenge")
    if not challenge:
        return True
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") == challenge


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response.json({"error": error, "error_description": description}, status)


def _ads_error(status: int, name: str, code: dict[str, str],
               details: dict[str, Any] | None = None, message: str = "") -> Response:
    failure: dict[str, Any] = {"errorCode": code, "message": message or f"{name}: {code}"}
    if details:
        failure["details"] = details
    return Response.json({"error": {"code": status, "message": name, "status": name, "details": [{
        "@type": "type.googleapis.com/google.ads.googleads.v25.errors.GoogleAdsFailure",
        "errors": [failure], "requestId": "stub-request"}]}}, status)
