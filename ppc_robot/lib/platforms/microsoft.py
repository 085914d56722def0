"""Microsoft Advertising through its REST API (v13): OAuth refresh, the accounts the user
reaches, the reporting flow (submit, poll, download the zipped CSV), and the landing pages of
ads, keywords and sitelinks from Campaign Management."""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import IO, Any

import httpx

from ppc_robot.lib.models import ClientAccountStatus, Platform
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
from ppc_robot.lib.platforms.landing import custom_parameters, first_suffix, landing_url, urls
from ppc_robot.lib.platforms.oauth import AccessTokens, OAuthProvider
from ppc_robot.lib.platforms.settings import PlatformSettings

logger = logging.getLogger(__name__)
NAME = "Microsoft Advertising"
PAGE_SIZE = 1000
CALL_RATE_WAIT_SECONDS = 60.0
STATUSES = {"Active": ClientAccountStatus.ACTIVE, "Pause": ClientAccountStatus.SUSPENDED,
            "Suspended": ClientAccountStatus.SUSPENDED, "Inactive": ClientAccountStatus.REMOVED}
# Microsoft's time-zone names (ReportTimeZone / AdvertiserAccount.TimeZone) for IANA zones.
TIME_ZONES = {
    "GreenwichMeanTimeDublinEdinburghLisbonLondon": "Europe/London",
    "AmsterdamBerlinBernRomeStockholmVienna": "Europe/Vienna",
    "BelgradeBratislavaBudapestLjubljanaPrague": "Europe/Prague",
    "BrusselsCopenhagenMadridParis": "Europe/Paris",
    "SarajevoSkopjeWarsawZagreb": "Europe/Warsaw",
    "AthensBucharestIstanbul": "Europe/Athens",
    "HelsinkiKyivRigaSofiaTallinnVilnius": "Europe/Helsinki",
    "EasternTimeUSCanada": "America/New_York",
    "CentralTimeUSCanada": "America/Chicago",
    "MountainTimeUSCanada": "America/Denver",
    "PacificTimeUSCanadaTijuana": "America/Los_Angeles",
    "Coordinated Universal Time": "UTC",
}
IANA_TO_MICROSOFT = {iana: name for name, iana in TIME_ZONES.items()}
IANA_TO_MICROSOFT.update({"Europe/Bratislava": "BelgradeBratislavaBudapestLjubljanaPrague",
                          "Europe/Budapest": "BelgradeBratislavaBudapestLjubljanaPrague",
                          "Europe/Berlin": "AmsterdamBerlinBernRomeStockholmVienna"})
REPORT_TYPES = (
    ("keyword", "KeywordPerformanceReportRequest",
     ["CampaignId", "CampaignName", "AdGroupName", "Keyword"]),
    ("ad_group", "AdGroupPerformanceReportRequest", ["CampaignId", "CampaignName", "AdGroupName"]),
    ("campaign", "CampaignPerformanceReportRequest", ["CampaignId", "CampaignName"]),
)
METRIC_COLUMNS = ["Impressions", "Clicks", "Spend", "Conversions", "Revenue"]
DEVELOPER_TOKEN = "PPC_ROBOT_MICROSOFT_DEVELOPER_TOKEN"
ADDRESSES = ("PPC_ROBOT_MICROSOFT_CUSTOMER_URL / PPC_ROBOT_MICROSOFT_REPORTING_URL / "
             "PPC_ROBOT_MICROSOFT_CAMPAIGN_URL")
# Landing pages (Campaign Management): the ad types with final URLs of search campaigns, and
# the statuses that keep an entity from serving without removing it.
AD_TYPES = ["ExpandedText", "ResponsiveSearch"]
PAUSED_STATUSES = {"Paused", "BudgetAndManualPaused", "Suspended", "Expired"}
ASSOCIATION_IDS_PER_CALL = 100
# Fault codes of the user's login: 109 AuthenticationTokenExpired (after a refresh),
# 108 UserCompromised, 120 UserLoginAccessDenied (merged into another login),
# 122 PersonalIdentityNotAvailable (a work account is needed). 106 UserIsNotAuthorized is
# about one account and denies only that one.
LOGIN_CODES = {108, 109, 120, 122}


class MicrosoftClient:
    """One Microsoft login (a refresh token, rotated on every refresh, and the last access
    token while it is valid)."""

    def __init__(self, credentials: dict[str, Any], settings: PlatformSettings,
                 before_call: Callable[[], None] | None = None,
                 on_rotate: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._settings = settings
        self._tokens = AccessTokens(OAuthProvider.of(Platform.MICROSOFT, settings), settings,
                                    credentials, on_rotate=on_rotate)
        self._http = make_http(settings)
        self._before_call = before_call or (lambda: None)
        self._user_id: str | None = None
        self._parents: dict[str, str] | None = None
        # A runner shares one client among its fetch threads: the accounts are listed once.
        self._lock = threading.Lock()

    def updated_credentials(self) -> dict[str, Any] | None:
        return self._tokens.updated_credentials()

    def check_credentials(self) -> Identity:
        user = self._call(self._customer("User/Query"), {"UserId": None})["User"]
        self._user_id = str(user["Id"])
        return Identity(self._user_id, str(user.get("UserName") or user["Id"]))

    def list_accounts(self) -> list[RemoteAccount]:
        if self._user_id is None:
            self.check_credentials()
        accounts: list[RemoteAccount] = []
        index = 0
        while True:
            page = self._call(self._customer("Accounts/Search"), {
                "Predicates": [{"Field": "UserId", "Operator": "Equals", "Value": self._user_id}],
                "Ordering": [{"Field": "Name", "Order": "Ascending"}],
                "PageInfo": {"Index": index, "Size": PAGE_SIZE},
            }).get("Accounts") or []
            for item in page:
                accounts.append(RemoteAccount(
                    str(item["Id"]), str(item.get("Name") or item["Id"]),
                    str(item.get("CurrencyCode") or "USD"),
                    TIME_ZONES.get(str(item.get("TimeZone")), "UTC"),
                    STATUSES.get(str(item.get("AccountLifeCycleStatus")),
                                 ClientAccountStatus.ACTIVE),
                    {"parent_customer_id": str(item.get("ParentCustomerId") or "")}))
            if len(page) < PAGE_SIZE:
                break
            index += 1
        self._parents = {a.external_id: a.extra["parent_customer_id"] for a in accounts}
        return accounts

    def fetch_report(self, request: ReportRequest) -> Iterator[ReportRow]:
        wanted = set(request.dimensions)
        level, report_type, names = next((r for r in REPORT_TYPES if r[0] in wanted),
                                         (None, "AccountPerformanceReportRequest", []))
        columns = (["TimePeriod"] if "date" in wanted else []) + list(names) + (
            ["DeviceType"] if "device" in wanted else []) + METRIC_COLUMNS
        account = request.account
        customer = account.extra.get("parent_customer_id") or self._parent_of(account.external_id)
        headers = {"CustomerId": customer, "CustomerAccountId": account.external_id}
        submitted = self._call(self._reporting("GenerateReport/Submit"), {"ReportRequest": {
            "Type": report_type, "ReportName": "ppc-robot", "Format": "Csv",
            "FormatVersion": "2.0", "ReturnOnlyCompleteData": False,
            # The header's row count tells a whole file from a cut-short one.
            "ExcludeReportHeader": False, "ExcludeReportFooter": False,
            "ExcludeColumnHeaders": False,
            "Aggregation": "Daily" if "date" in wanted else "Summary",
            "Columns": columns, "Scope": {"AccountIds": [account.external_id]},
            "Time": {"CustomDateRangeStart": _date(request.date_from),
                     "CustomDateRangeEnd": _date(request.date_to), "PredefinedTime": None,
                     "ReportTimeZone": IANA_TO_MICROSOFT.get(
                         account.time_zone, "GreenwichMeanTimeDublinEdinburghLisbonLondon")},
        }}, headers)
        url = self._wait_for(str(submitted["ReportRequestId"]), headers)
        if url is None:  # Success without a URL: no data in the range
            return
        with self._download(url) as archive:
            yield from _rows(archive, level, wanted)

    def landing_pages(self, account: RemoteAccount,
                      entities: Sequence[str] = LANDING_PAGE_ENTITIES) -> Iterator[LandingPage]:
        """Final URLs (and mobile final URLs) of the ads and keywords of the account's search
        campaigns, and of sitelink extensions associated with the account, its campaigns and
        ad groups; deleted ones skipped.

        The most specific FinalUrlSuffix (entity, ad group, campaign) is appended; `{_name}`
        custom parameters (entity, then ad group, then campaign) and the ids known before the
        click (`{CampaignId}`, `{AdGroupId}`, `{AdId}`, `{OrderItemId}`, `{keyword}`) are
        filled in, any other `{…}` stripped. Tracking templates (`{lpurl}`) are not followed.
        """
        wanted = set(entities)
        customer = account.extra.get("parent_customer_id") or self._parent_of(account.external_id)
        headers = {"CustomerId": customer, "CustomerAccountId": account.external_id}
        campaigns = [c for c in self._call(self._campaign("Campaigns/QueryByAccountId"), {
            "AccountId": account.external_id, "CampaignType": "Search"}, headers).get(
            "Campaigns") or [] if c.get("Status") != "Deleted"]
        groups = [(campaign, group) for campaign in campaigns for group in self._call(
            self._campaign("AdGroups/QueryByCampaignId"), {"CampaignId": str(campaign["Id"])},
            headers).get("AdGroups") or [] if group.get("Status") != "Deleted"]
        ad_kinds = [(k, f) for k, f in (("ad", "FinalUrls"), ("ad_mobile", "FinalMobileUrls"))
                    if k in wanted]
        for campaign, group in groups:
            body = {"AdGroupId": str(group["Id"])}
            if ad_kinds:
                for ad in self._call(self._campaign("Ads/QueryByAdGroupId"),
                                     {**body, "AdTypes": AD_TYPES}, headers).get("Ads") or []:
                    yield from _landing_pages(ad, ad_kinds, campaign, group,
                                              {"AdId": str(ad.get("Id", ""))})
            if "keyword" in wanted:
                for keyword in self._call(self._campaign("Keywords/QueryByAdGroupId"), body,
                                          headers).get("Keywords") or []:
                    yield from _landing_pages(keyword, [("keyword", "FinalUrls")], campaign, group,
                                              {"OrderItemId": str(keyword.get("Id", "")),
                                               "keyword": str(keyword.get("Text") or "")})
        if "sitelink" in wanted:
            owners = [("Account", {account.external_id: ({}, {})}),
                      ("Campaign", {str(c["Id"]): (c, {}) for c in campaigns}),
                      ("AdGroup", {str(g["Id"]): (c, g) for c, g in groups})]
            for level, by_id in owners:
                yield from self._sitelinks(account.external_id, level, by_id, headers)

    def _sitelinks(self, account_id: str, level: str,
                   by_id: dict[str, tuple[dict[str, Any], dict[str, Any]]],
                   headers: dict[str, str]) -> Iterator[LandingPage]:
        ids = list(by_id)
        for start in range(0, len(ids), ASSOCIATION_IDS_PER_CALL):
            answer = self._call(self._campaign("AdExtensionsAssociations/Query"), {
                "AccountId": account_id, "AdExtensionType": "SitelinkAdExtension",
                "AssociationType": level, "EntityIds": ids[start:start + ASSOCIATION_IDS_PER_CALL],
            }, headers)
            for collection in answer.get("AdExtensionAssociationCollection") or []:
                for association in (collection or {}).get("AdExtensionAssociations") or []:
                    campaign, group = by_id.get(str(association.get("EntityId")), ({}, {}))
                    yield from _landing_pages(association.get("AdExtension") or {},
                                              [("sitelink", "FinalUrls")], campaign, group, {})

    def _wait_for(self, report_id: str, headers: dict[str, str]) -> str | None:
        for attempt in range(max(self._settings.report_poll_attempts, 1)):
            if attempt:
                time.sleep(self._settings.report_poll_interval_seconds)
            status = self._call(self._reporting("GenerateReport/Poll"),
                                {"ReportRequestId": report_id}, headers)["ReportRequestStatus"]
            if status.get("Status") == "Success":
                return status.get("ReportDownloadUrl")
            if status.get("Status") == "Error":
                raise TemporaryError("Microsoft Advertising failed to build the report; "
                                     "it will be requested again.")
        raise TemporaryError("Microsoft Advertising did not finish the report in time.")

    def _download(self, url: str) -> IO[bytes]:
        # The URL is pre-signed: no credentials go with it.
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - _rows closes it
        try:
            with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise TemporaryError(f"The report download failed (HTTP "
                                         f"{response.status_code}); it will be requested again.")
                for chunk in response.iter_bytes():
                    spool.write(chunk)
        except httpx.TransportError as exc:
            spool.close()
            raise TemporaryError("The report could not be downloaded.") from exc
        spool.seek(0)
        return spool

    def _parent_of(self, account_id: str) -> str:
        with self._lock:
            if self._parents is None:
                self.list_accounts()
        assert self._parents is not None
        return self._parents.get(account_id, "")

    # --- the wire -----------------------------------------------------------------------

    def _customer(self, path: str) -> str:
        return f"{self._settings.microsoft_customer_url.rstrip('/')}/CustomerManagement/v13/{path}"

    def _campaign(self, path: str) -> str:
        return (f"{self._settings.microsoft_campaign_url.rstrip('/')}/CampaignManagement/v13/"
                f"{path}")

    def _reporting(self, path: str) -> str:
        return f"{self._settings.microsoft_reporting_url.rstrip('/')}/Reporting/v13/{path}"

    def _call(self, url: str, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> dict[str, Any]:
        return with_retries(self._settings, lambda: self._call_once(url, body, headers or {}))

    def _call_once(self, url: str, body: dict[str, Any], extra: dict[str, str]) -> dict[str, Any]:
        for attempt in (1, 2):
            token = self._tokens.current()
            headers = {"Authorization": f"Bearer {token}",
                       "DeveloperToken": self._settings.microsoft_developer_token, **extra}
            self._before_call()
            response = send(self._http, self._http.build_request("POST", url, json=body,
                                                                 headers=headers), NAME)
            try:
                answer = response.json()
            except ValueError as exc:
                raise TemporaryError(f"{NAME} answered with something that is not JSON "
                                     f"(HTTP {response.status_code}).") from exc
            if response.status_code == 200 and isinstance(answer, dict):
                return answer
            codes = _fault_codes(answer)
            if (109 in codes or 105 in codes) and attempt == 1:
                # AuthenticationTokenExpired, or InvalidCredentials, which a stale access
                # token may cause as well as a bad developer token: refresh once.
                self._tokens.refused(token)
                continue
            raise _error(response, codes, answer)
        raise AssertionError("unreachable")


def _landing_pages(entity: dict[str, Any], kinds: list[tuple[str, str]], campaign: dict[str, Any],
                   group: dict[str, Any], values: dict[str, str]) -> Iterator[LandingPage]:
    """The landing pages of one ad, keyword or sitelink extension under its ad group and
    campaign (empty for the account's own sitelinks); nothing when it is deleted."""
    if entity.get("Status") == "Deleted":
        return
    values = {"CampaignId": str(campaign.get("Id") or ""), "AdGroupId": str(group.get("Id") or ""),
              **values, **custom_parameters(_custom(entity), _custom(group), _custom(campaign))}
    suffix = first_suffix(entity.get("FinalUrlSuffix"), group.get("FinalUrlSuffix"),
                          campaign.get("FinalUrlSuffix"))
    paused = any(e.get("Status") in PAUSED_STATUSES for e in (entity, group, campaign))
    for kind, name in kinds:
        for url in urls(entity.get(name)):
            yield LandingPage(
                landing_url(url, suffix, values), kind, str(entity.get("Id", "")),
                str(campaign["Id"]) if campaign.get("Id") else None, campaign.get("Name"),
                str(group["Id"]) if group.get("Id") else None, group.get("Name"), paused=paused)


def _custom(entity: dict[str, Any]) -> list[tuple[str, str]]:
    parameters = (entity.get("UrlCustomParameters") or {}).get("Parameters") or []
    return [(str(p.get("Key")), str(p.get("Value") or "")) for p in parameters if p.get("Key")]


def _date(day: date) -> dict[str, int]:
    return {"Day": day.day, "Month": day.month, "Year": day.year}


def _fault_codes(answer: Any) -> list[int]:
    if not isinstance(answer, dict):
        return []
    errors = (answer.get("Errors") or []) + (answer.get("OperationErrors") or []) + (
        answer.get("BatchErrors") or [])
    return [int(e["Code"]) for e in errors if isinstance(e, dict) and str(e.get("Code", "")).isdigit()]


def _error(response: httpx.Response, codes: list[int], answer: Any) -> PlatformError:
    """The typed error of a refused call, by the fault codes first."""
    label = ", ".join(str(c) for c in codes) or f"HTTP {response.status_code}"
    if 105 in codes:
        # InvalidCredentials with an access token just issued to this app: the developer
        # token, or the service addresses of another environment (production vs sandbox).
        return PlatformSettingsError(
            f"{NAME} refused this installation's developer token ({label}: InvalidCredentials, "
            f"with a freshly issued access token); the administrator must correct "
            f"{DEVELOPER_TOKEN} (and {ADDRESSES}, which must name the same environment). "
            "The login itself was not touched.", DEVELOPER_TOKEN)
    if any(c in LOGIN_CODES for c in codes) or response.status_code == 401:
        return InvalidCredentialsError(f"{NAME} refused the authorisation ({label}); "
                                       "re-authorise the login.")
    if 106 in codes or response.status_code == 403:
        return AccessDeniedError(f"{NAME} denied access to that account ({label}).")
    if 117 in codes or 207 in codes or response.status_code == 429:
        wait = retry_after_seconds(response)
        return RateLimitedError(f"{NAME} is throttling this login ({label}).",
                                CALL_RATE_WAIT_SECONDS if wait is None else wait)
    if 0 in codes or response.status_code >= 500:
        return TemporaryError(f"{NAME} failed on its side ({label}); try again later.")
    return BadRequestError(f"{NAME} refused the request ({label}).")


def _rows(archive: IO[bytes], level: str | None, wanted: set[str]) -> Iterator[ReportRow]:
    """Rows of the zipped CSV, read line by line; report header and footer lines skipped.

    Raises TemporaryError when the file is incomplete: a row cut short, or fewer rows than
    the header's `Rows:` count.
    """
    incomplete = TemporaryError("The report file from Microsoft Advertising is incomplete; "
                                "it will be requested again.")
    try:
        with zipfile.ZipFile(archive) as bundle:
            member = next((n for n in bundle.namelist() if n.lower().endswith(".csv")), None)
            if member is None:
                raise TemporaryError("The report archive holds no CSV file.")
            with bundle.open(member) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                header: list[str] | None = None
                announced: int | None = None
                read = 0
                for cells in csv.reader(text):
                    if header is None:
                        if "Impressions" in cells:
                            header = cells
                        elif len(cells) == 1 and cells[0].startswith("Rows:"):
                            announced = _count(cells[0])
                        continue
                    if not any(cells) or len(cells) == 1 and cells[0].lstrip().startswith(
                            ("@", "©")):  # the blank line and the copyright footer
                        continue
                    if len(cells) != len(header):
                        raise incomplete
                    read += 1
                    yield _row(dict(zip(header, cells, strict=True)), level, wanted)
                if announced is not None and read != announced:
                    raise incomplete
    except zipfile.BadZipFile as exc:
        raise TemporaryError("The report download is not a zip archive.") from exc
    finally:
        archive.close()


def _count(line: str) -> int | None:
    """The number of a header line such as `Rows: 1,234`."""
    digits = line.partition(":")[2].strip().replace(",", "")
    return int(digits) if digits.isdigit() else None


def _row(values: dict[str, str], level: str | None, wanted: set[str]) -> ReportRow:
    period = values.get("TimePeriod", "")
    return ReportRow(
        date=date.fromisoformat(period[:10]) if "date" in wanted and period else None,
        campaign=values.get("CampaignName") if level else None,
        campaign_id=values.get("CampaignId") or None if level else None,
        ad_group=values.get("AdGroupName") if level in ("ad_group", "keyword") else None,
        keyword=values.get("Keyword") if level == "keyword" else None,
        device=(values.get("DeviceType") or "").lower() or None if "device" in wanted else None,
        impressions=int(values.get("Impressions") or 0),
        clicks=int(values.get("Clicks") or 0),
        cost=to_decimal(values.get("Spend")),
        conversions=to_decimal(values.get("Conversions")),
        conversion_value=to_decimal(values.get("Revenue")),
    )
