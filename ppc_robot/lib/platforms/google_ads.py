"""Google Ads through its REST interface: OAuth refresh, accessible customers, the
customer_client hierarchy and googleAds:searchStream with GAQL."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import httpx

from ppc_robot.lib.models import ClientAccountStatus, Platform, utcnow
from ppc_robot.lib.platforms.base import (
    LANDING_PAGE_ENTITIES,
    AccessDeniedError,
    BadRequestError,
    Identity,
    InvalidCredentialsError,
    LandingPage,
    PlatformError,
    PlatformSettingsError,
    QuotaExhaustedError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    ReportRow,
    RevokedCredentialsError,
    TemporaryError,
    micros_to_money,
    to_decimal,
)
from ppc_robot.lib.platforms.http import make_http, retry_after_seconds, with_retries
from ppc_robot.lib.platforms.landing import custom_parameters, first_suffix, landing_url, urls
from ppc_robot.lib.platforms.oauth import AccessTokens, OAuthProvider
from ppc_robot.lib.platforms.settings import PlatformSettings

logger = logging.getLogger(__name__)
NAME = "Google Ads"
STATUSES = {"ENABLED": ClientAccountStatus.ACTIVE, "SUSPENDED": ClientAccountStatus.SUSPENDED,
            "CANCELED": ClientAccountStatus.REMOVED, "CLOSED": ClientAccountStatus.REMOVED}
HIERARCHY = (
    "SELECT customer_client.client_customer, customer_client.level, customer_client.manager, "
    "customer_client.descriptive_name, customer_client.currency_code, "
    "customer_client.time_zone, customer_client.id, customer_client.status "
    "FROM customer_client WHERE customer_client.level <= 1"
)
METRIC_FIELDS = ("metrics.impressions, metrics.clicks, metrics.cost_micros, "
                 "metrics.conversions, metrics.conversions_value")
# The finest dimension asked for picks the resource queried, and with it the fields.
RESOURCES = (
    ("keyword", "keyword_view", ["campaign.id", "campaign.name", "ad_group.name",
                                 "ad_group_criterion.keyword.text"]),
    ("ad_group", "ad_group", ["campaign.id", "campaign.name", "ad_group.name"]),
    ("campaign", "campaign", ["campaign.id", "campaign.name"]),
)
# Landing pages: one GAQL query per entity kind, removed entities (and those under a removed
# campaign or ad group) filtered out by Google. The suffix and custom parameters of the ad group
# and campaign come along, as the more specific level overrides the less.
_PARENTS = ("customer.final_url_suffix, campaign.id, campaign.name, campaign.status, "
            "campaign.final_url_suffix, campaign.url_custom_parameters")
_GROUP = ("ad_group.id, ad_group.name, ad_group.status, ad_group.final_url_suffix, "
          "ad_group.url_custom_parameters")
_LIVE = "campaign.status != 'REMOVED'"
_LIVE_GROUP = f"{_LIVE} AND ad_group.status != 'REMOVED'"
LANDING_QUERIES = (
    ("ad", f"SELECT {_PARENTS}, {_GROUP}, ad_group_ad.status, ad_group_ad.ad.id, "
           "ad_group_ad.ad.final_urls, ad_group_ad.ad.final_mobile_urls, "
           "ad_group_ad.ad.final_url_suffix, ad_group_ad.ad.url_custom_parameters "
           f"FROM ad_group_ad WHERE ad_group_ad.status != 'REMOVED' AND {_LIVE_GROUP}"),
    ("keyword", f"SELECT {_PARENTS}, {_GROUP}, ad_group_criterion.criterion_id, "
                "ad_group_criterion.status, ad_group_criterion.keyword.text, "
                "ad_group_criterion.final_urls, ad_group_criterion.final_url_suffix, "
                "ad_group_criterion.url_custom_parameters FROM ad_group_criterion "
                "WHERE ad_group_criterion.type = 'KEYWORD' AND ad_group_criterion.negative = FALSE "
                f"AND ad_group_criterion.status != 'REMOVED' AND {_LIVE_GROUP}"),
)
_ASSET = ("asset.id, asset.final_urls, asset.final_url_suffix, asset.url_custom_parameters, "
          "asset.sitelink_asset.link_text")
SITELINK_QUERIES = (
    ("customer_asset", f"SELECT customer.final_url_suffix, customer_asset.status, {_ASSET} "
                       "FROM customer_asset WHERE customer_asset.field_type = 'SITELINK' "
                       "AND customer_asset.status != 'REMOVED'"),
    ("campaign_asset", f"SELECT {_PARENTS}, campaign_asset.status, {_ASSET} FROM campaign_asset "
                       "WHERE campaign_asset.field_type = 'SITELINK' "
                       f"AND campaign_asset.status != 'REMOVED' AND {_LIVE}"),
    ("ad_group_asset", f"SELECT {_PARENTS}, {_GROUP}, ad_group_asset.status, {_ASSET} "
                       "FROM ad_group_asset WHERE ad_group_asset.field_type = 'SITELINK' "
                       f"AND ad_group_asset.status != 'REMOVED' AND {_LIVE_GROUP}"),
)
DAILY_QUOTA_DELAY_SECONDS = 3600
DEVELOPER_TOKEN = "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN"
VERSION = "PPC_ROBOT_GOOGLE_ADS_VERSION"
OAUTH_CLIENT = "PPC_ROBOT_GOOGLE_CLIENT_ID"
ADDRESS = "PPC_ROBOT_GOOGLE_ADS_URL"
# Error codes naming this installation's settings rather than the user's login; every code
# with DEVELOPER_TOKEN in its name is the developer token's (INVALID, NOT_APPROVED,
# NOT_ON_ALLOWLIST, PROHIBITED, ORGANIZATION_NOT_ASSOCIATED_WITH_DEVELOPER_TOKEN).
SETTINGS_ERRORS = {
    "UNSUPPORTED_VERSION": VERSION,
    "PROJECT_DISABLED": OAUTH_CLIENT,
    "CLOUD_PROJECT_NOT_APPROVED_FOR_PRODUCTION": OAUTH_CLIENT,
}
# The user's grant: the login needs re-authorising (or, revoked, linking again).
LOGIN_ERRORS = {"OAUTH_TOKEN_INVALID", "OAUTH_TOKEN_EXPIRED", "OAUTH_TOKEN_DISABLED",
                "OAUTH_TOKEN_REVOKED", "OAUTH_TOKEN_HEADER_INVALID", "GOOGLE_ACCOUNT_DELETED",
                "NOT_ADS_USER", "TWO_STEP_VERIFICATION_NOT_ENROLLED", "AUTHENTICATION_ERROR"}
REVOKED_ERRORS = {"OAUTH_TOKEN_REVOKED", "OAUTH_TOKEN_DISABLED"}
# Sent as authentication errors (HTTP 401) but about one account, not the login.
ACCOUNT_ERRORS = {"CUSTOMER_NOT_FOUND", "CLIENT_CUSTOMER_ID_INVALID"}
DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def _digits(customer_id: str) -> str:
    return customer_id.replace("-", "")


class GoogleAdsClient:
    """One Google login (a refresh token, and the last access token while it is valid) seen
    through the Google Ads API."""

    def __init__(self, credentials: dict[str, Any], settings: PlatformSettings,
                 before_call: Callable[[], None] | None = None,
                 on_rotate: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._settings = settings
        self._tokens = AccessTokens(OAuthProvider.of(Platform.GOOGLE_ADS, settings), settings,
                                    credentials, on_rotate=on_rotate)
        base = f"{settings.google_ads_url.rstrip('/')}/{settings.google_ads_version}/"
        self._base = base  # paths like "customers:list…" would parse as a URL scheme
        self._http = make_http(settings)
        self._before_call = before_call or (lambda: None)
        self._managers: dict[str, str] | None = None
        # A runner shares one client among its fetch threads: the token and the hierarchy
        # are fetched once, by whichever thread needs them first.
        self._lock = threading.RLock()

    def updated_credentials(self) -> dict[str, Any] | None:
        return self._tokens.updated_credentials()

    def check_credentials(self) -> Identity:
        customers = self._accessible()
        if not customers:
            raise AccessDeniedError("This Google login has no Google Ads account.")
        first = customers[0]
        return Identity(first, f"Google Ads {first[:3]}-{first[3:6]}-{first[6:]}")

    def list_accounts(self) -> list[RemoteAccount]:
        found: dict[str, RemoteAccount] = {}
        self._managers = {}
        for customer in self._accessible():
            self._walk(customer, customer, found, depth=0)
        return sorted(found.values(), key=lambda a: a.name)

    def _walk(self, customer: str, login: str, found: dict[str, RemoteAccount], depth: int) -> None:
        rows = [r.get("customerClient") or {} for r in self._search(customer, HIERARCHY, login)]
        itself = next((r for r in rows if str(r.get("level", "0")) == "0"), {})
        children = [r for r in rows if str(r.get("level", "0")) == "1"]
        if not itself.get("manager"):
            self._add(itself or {"id": customer}, login, found)
            return
        leaves = [r for r in children if not r.get("manager")]
        for child in leaves:
            self._add(child, login, found)
        for child in children:
            if child.get("manager") and depth < 5:
                self._walk(str(child["id"]), login, found, depth + 1)
        if not children:  # a manager with nothing under it stands for itself
            self._add(itself, login, found)

    def _add(self, row: dict[str, Any], login: str, found: dict[str, RemoteAccount]) -> None:
        customer = str(row.get("id"))
        if customer in found:
            return
        assert self._managers is not None
        self._managers[customer] = login
        found[customer] = RemoteAccount(
            customer, str(row.get("descriptiveName") or customer),
            str(row.get("currencyCode") or "USD"), str(row.get("timeZone") or "UTC"),
            STATUSES.get(str(row.get("status")), ClientAccountStatus.ACTIVE),
            {"login_customer_id": login})

    def fetch_report(self, request: ReportRequest) -> Iterator[ReportRow]:
        wanted = set(request.dimensions)
        level, resource, fields = next((r for r in RESOURCES if r[0] in wanted),
                                       (None, "customer", []))
        selected = list(fields) if level else []
        if "date" in wanted:
            selected.append("segments.date")
        if "device" in wanted:
            selected.append("segments.device")
        query = (
            f"SELECT {', '.join([*selected, METRIC_FIELDS])} FROM {resource} "
            f"WHERE segments.date BETWEEN '{request.date_from.isoformat()}' "
            f"AND '{request.date_to.isoformat()}'"
        )
        customer = _digits(request.account.external_id)
        stored = request.account.extra.get("login_customer_id")
        login = stored or self._manager_of(customer)
        try:
            response = self._open_stream(customer, query, login)
        except AccessDeniedError:
            # The manager stored at sync no longer reaches the account (it moved): ask the
            # hierarchy once more before giving up.
            if not stored or self._manager_of(customer) == login:
                raise
            response = self._open_stream(customer, query, self._manager_of(customer))
        for result in self._results(response):
            metrics = result.get("metrics") or {}
            segments = result.get("segments") or {}
            yield ReportRow(
                date=date.fromisoformat(segments["date"]) if "date" in wanted else None,
                campaign=(result.get("campaign") or {}).get("name") if level else None,
                campaign_id=_campaign_id(result.get("campaign") or {}) if level else None,
                ad_group=(result.get("adGroup") or {}).get("name")
                if level in ("ad_group", "keyword") else None,
                keyword=((result.get("adGroupCriterion") or {}).get("keyword") or {}).get("text")
                if level == "keyword" else None,
                device=str(segments.get("device", "")).lower() or None
                if "device" in wanted else None,
                impressions=int(metrics.get("impressions") or 0),
                clicks=int(metrics.get("clicks") or 0),
                cost=micros_to_money(metrics.get("costMicros")),
                conversions=to_decimal(metrics.get("conversions")),
                conversion_value=to_decimal(metrics.get("conversionsValue")),
            )

    def landing_pages(self, account: RemoteAccount,
                      entities: Sequence[str] = LANDING_PAGE_ENTITIES) -> Iterator[LandingPage]:
        """Final URLs of ads (and their mobile final URLs), of keywords that have their own, and
        of sitelink assets linked to the account, its campaigns and ad groups.

        The URL is the final URL with the most specific final-URL suffix appended (ad or
        keyword, else ad group, campaign, account); `{_name}` custom parameters and the ids
        ValueTrack knows before the click (`{campaignid}`, `{adgroupid}`, `{creative}`,
        `{keyword}`) are filled in, other ValueTrack parameters stripped. Tracking templates
        (`{lpurl}`…) only wrap the click in a redirect to this URL and are not followed.
        """
        wanted = set(entities)
        queries = [(kind, q) for kind, q in LANDING_QUERIES
                   if kind in wanted or (kind == "ad" and "ad_mobile" in wanted)]
        if "sitelink" in wanted:
            queries += list(SITELINK_QUERIES)
        for kind, query in queries:
            for result in self._landing_rows(account, query):
                yield from _landing_pages(kind, result, wanted)

    def _landing_rows(self, account: RemoteAccount, query: str) -> Iterator[dict[str, Any]]:
        customer = _digits(account.external_id)
        stored = account.extra.get("login_customer_id")
        login = stored or self._manager_of(customer)
        try:
            response = self._open_stream(customer, query, login)
        except AccessDeniedError:
            if not stored or self._manager_of(customer) == login:  # moved: as fetch_report
                raise
            response = self._open_stream(customer, query, self._manager_of(customer))
        return self._results(response)

    def _manager_of(self, customer: str) -> str:
        """The manager to log in through, from the hierarchy walked once per client."""
        with self._lock:
            if self._managers is None:
                self.list_accounts()
        assert self._managers is not None
        return self._managers.get(customer, customer)

    # --- the wire -----------------------------------------------------------------------

    def _accessible(self) -> list[str]:
        body = self._request("GET", "customers:listAccessibleCustomers", None, None)
        names = body.get("resourceNames") or [] if isinstance(body, dict) else []
        return sorted(str(n).split("/")[-1] for n in names)

    def _search(self, customer: str, query: str, login: str) -> list[dict[str, Any]]:
        return list(self._results(self._open_stream(customer, query, login)))

    def _open_stream(self, customer: str, query: str, login: str) -> httpx.Response:
        """searchStream's answer, its body not read yet (retried while that is worth it)."""

        def open_stream() -> httpx.Response:
            return self._open("POST", f"customers/{customer}/googleAds:searchStream",
                              {"query": query}, login)

        return with_retries(self._settings, open_stream)

    def _results(self, response: httpx.Response) -> Iterator[dict[str, Any]]:
        """The rows of searchStream, decoded batch by batch as the body arrives."""
        try:
            for batch in _json_array_items(response.iter_text()):
                yield from batch.get("results") or []
        except ValueError as exc:
            raise TemporaryError("Google Ads answered with something that is not JSON.") from exc
        finally:
            response.close()

    def _request(self, method: str, path: str, body: Any, login: str | None) -> Any:
        def call() -> Any:
            response = self._open(method, path, body, login)
            try:
                response.read()
                return response.json()
            except ValueError as exc:
                raise TemporaryError(
                    "Google Ads answered with something that is not JSON.") from exc
            finally:
                response.close()

        return with_retries(self._settings, call)

    def _open(self, method: str, path: str, body: Any, login: str | None) -> httpx.Response:
        """Send with a valid access token, refreshing once when Google calls it expired."""
        for attempt in (1, 2):
            token = self._tokens.current()
            headers = {"Authorization": f"Bearer {token}",
                       "developer-token": self._settings.google_ads_developer_token}
            if login:
                headers["login-customer-id"] = _digits(login)
            self._before_call()
            request = self._http.build_request(method, self._base + path, json=body, headers=headers)
            try:
                response = self._http.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise TemporaryError("Google Ads did not answer in time.") from exc
            except httpx.TransportError as exc:
                raise TemporaryError("Google Ads could not be reached.") from exc
            if response.status_code < 300:
                return response
            response.read()
            response.close()
            error = _error(response, self._settings.google_ads_version)
            if isinstance(error, InvalidCredentialsError) and attempt == 1:
                self._tokens.refused(token)  # expired or revoked access token: refresh once
                continue
            raise error
        raise AssertionError("unreachable")


def _campaign_id(campaign: dict[str, Any]) -> str | None:
    """The campaign's id (an int64, so a JSON string), or the last part of its resource name."""
    if campaign.get("id") not in (None, ""):
        return str(campaign["id"])
    name = str(campaign.get("resourceName") or "")
    return name.rsplit("/", 1)[-1] or None if "/campaigns/" in name else None


def _landing_pages(kind: str, row: dict[str, Any], wanted: set[str]) -> Iterator[LandingPage]:
    """The landing pages of one searchStream row of a LANDING_QUERIES or SITELINK_QUERIES query."""
    campaign, group = row.get("campaign") or {}, row.get("adGroup") or {}
    statuses = [campaign.get("status"), group.get("status")]
    values = {"campaignid": str(campaign.get("id") or ""), "adgroupid": str(group.get("id") or "")}
    suffixes = [group.get("finalUrlSuffix"), campaign.get("finalUrlSuffix"),
                (row.get("customer") or {}).get("finalUrlSuffix")]
    levels = [_custom(group), _custom(campaign)]
    if kind == "ad":
        link = row.get("adGroupAd") or {}
        entity, entity_id = link.get("ad") or {}, str((link.get("ad") or {}).get("id", ""))
        values["creative"] = entity_id
        found = [("ad", u) for u in urls(entity.get("finalUrls")) if "ad" in wanted]
        found += [("ad_mobile", u) for u in urls(entity.get("finalMobileUrls"))
                  if "ad_mobile" in wanted]
    elif kind == "keyword":
        link = entity = row.get("adGroupCriterion") or {}
        entity_id = str(entity.get("criterionId", ""))
        values["keyword"] = str((entity.get("keyword") or {}).get("text") or "")
        found = [("keyword", u) for u in urls(entity.get("finalUrls"))]
    else:  # a sitelink asset, linked at the account, campaign or ad group
        link = row.get(_camel(kind)) or {}
        entity = row.get("asset") or {}
        entity_id = str(entity.get("id", ""))
        found = [("sitelink", u) for u in urls(entity.get("finalUrls"))]
    statuses.append(link.get("status"))
    suffix = first_suffix(entity.get("finalUrlSuffix"), *suffixes)
    values.update(custom_parameters(_custom(entity), *levels))
    for entity_type, url in found:
        yield LandingPage(
            url=landing_url(url, suffix, values), entity_type=entity_type, entity_id=entity_id,
            campaign_id=_campaign_id(campaign) if campaign else None,
            campaign=campaign.get("name"), ad_group_id=str(group["id"]) if "id" in group else None,
            ad_group=group.get("name"), paused="PAUSED" in statuses)


def _custom(entity: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(p.get("key", "")), str(p.get("value", "")))
            for p in entity.get("urlCustomParameters") or [] if p.get("key")]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _json_array_items(chunks: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Objects of a JSON array read from text chunks, each decoded as soon as it is complete."""
    decoder = json.JSONDecoder()
    buffer, started, ended = "", False, False
    for chunk in chunks:
        buffer += chunk
        while True:
            buffer = buffer.lstrip()
            if not started:
                if not buffer:
                    break
                if buffer[0] != "[":
                    raise ValueError("not a JSON array")
                started, buffer = True, buffer[1:]
                continue
            if buffer.startswith(","):
                buffer = buffer[1:]
                continue
            if buffer.startswith("]"):
                ended, buffer = True, buffer[1:]
                break
            if not buffer:
                break
            try:
                item, end = decoder.raw_decode(buffer)
            except json.JSONDecodeError:
                break  # incomplete: read more
            if not isinstance(item, dict):
                raise ValueError("array item is not an object")
            yield item
            buffer = buffer[end:]
    if not ended or buffer.strip():
        raise ValueError("truncated or trailing data")


def _error(response: httpx.Response, version: str) -> PlatformError:
    """The typed error of a refused call, by the Google Ads error codes first: the installation's
    settings, the user's grant, one account's access, quota, or Google's own trouble."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if isinstance(body, list) and body:
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    codes: list[str] = []
    retry_delay: float | None = retry_after_seconds(response)
    for detail in error.get("details") or []:
        for failure in detail.get("errors") or []:
            codes.extend(str(v) for v in (failure.get("errorCode") or {}).values())
            delay = ((failure.get("details") or {}).get("quotaErrorDetails") or {}).get("retryDelay")
            match = DURATION.match(str(delay or ""))
            if match:
                retry_delay = float(match.group(1))
    code = ", ".join(codes) or str(error.get("status") or response.status_code)
    status = response.status_code
    setting = _settings_at_fault(codes, status, bool(error))
    if setting is not None:
        what = {DEVELOPER_TOKEN: "this installation's developer token",
                VERSION: f"the API version {version}",
                OAUTH_CLIENT: "this installation's Google Cloud project (the OAuth client)",
                ADDRESS: "the address of its API"}[setting]
        return PlatformSettingsError(
            f"Google Ads refused {what} ({code}); the administrator must correct {setting}. "
            "The login itself was not touched.", setting)
    if any(c in ACCOUNT_ERRORS for c in codes):
        return AccessDeniedError(f"Google Ads does not reach that account ({code}).")
    if status == 401 or any(c in LOGIN_ERRORS for c in codes):
        if any(c in REVOKED_ERRORS for c in codes):
            return RevokedCredentialsError(f"Google Ads says the access was revoked ({code}); "
                                           "re-authorise the login.")
        return InvalidCredentialsError(f"Google Ads refused the authorisation ({code}); "
                                       "re-authorise the login.")
    if status == 429:
        if retry_delay is not None and retry_delay > DAILY_QUOTA_DELAY_SECONDS:
            # A delay of hours means the developer token's daily operations are used up.
            next_attempt = utcnow() + timedelta(seconds=retry_delay)
            return QuotaExhaustedError(
                f"Google Ads quota exhausted ({code}), next attempt at "
                f"{next_attempt:%Y-%m-%d %H:%M} UTC.", next_attempt)
        return RateLimitedError(f"Google Ads' quota was reached ({code}).", retry_delay)
    if status >= 500:
        return TemporaryError(f"Google Ads failed on its side ({code}); try again later.")
    if status == 403:
        return AccessDeniedError(f"Google Ads denied access to that account ({code}).")
    return BadRequestError(f"Google Ads refused the request ({code}).")


def _settings_at_fault(codes: list[str], status: int, is_google_error: bool) -> str | None:
    """The setting a refusal blames, or None when it is not the installation's."""
    for code in codes:
        if "DEVELOPER_TOKEN" in code:
            return DEVELOPER_TOKEN
        if code in SETTINGS_ERRORS:
            return SETTINGS_ERRORS[code]
    if status == 404 and not is_google_error:
        return ADDRESS  # our paths are fixed: a bare 404 means the base URL or version is wrong
    return None
