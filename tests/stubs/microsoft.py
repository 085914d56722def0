"""Stand-in for Microsoft identity (OAuth) and Microsoft Advertising REST v13, on one port."""

from __future__ import annotations

import csv
import io
import itertools
import secrets
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from tests.stubs.base import Request, Response, StubServer

DEVELOPER_TOKEN = "stub-ms-developer-token"
CLIENT_ID = "00000000-stub-client"
CLIENT_SECRET = "stub-ms-secret"


@dataclass
class MsAdGroup:
    """An ad group of Campaign Management; `ads` and `keywords` in their REST JSON shape."""

    id: str
    name: str
    status: str = "Active"
    fields: dict[str, Any] = field(default_factory=dict)  # FinalUrlSuffix, UrlCustomParameters
    ads: list[dict[str, Any]] = field(default_factory=list)
    keywords: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MsCampaign:
    id: str
    name: str
    status: str = "Active"
    campaign_type: str = "Search"
    fields: dict[str, Any] = field(default_factory=dict)
    ad_groups: list[MsAdGroup] = field(default_factory=list)


@dataclass
class MsAccount:
    id: str
    name: str
    parent_customer_id: str = "5000"
    currency: str = "EUR"
    time_zone: str = "AmsterdamBerlinBernRomeStockholmVienna"
    status: str = "Active"
    # campaign name → [(day, impressions, clicks, spend text, conversions text, revenue text)]
    campaigns: dict[str, list[tuple[date, int, int, str, str, str]]] = field(default_factory=dict)
    # Campaign Management: the campaign tree, and ad extensions with the (AssociationType,
    # EntityId) pairs they are associated with.
    entity_campaigns: list[MsCampaign] = field(default_factory=list)
    extensions: list[tuple[dict[str, Any], list[tuple[str, str]]]] = field(default_factory=list)


class MicrosoftStub(StubServer):
    """Knobs: `fail_next` ([(http status, fault code)] or "garbage"), `pending_polls`,
    `report_error`, `expire_access_tokens()`, `revoke(refresh_token)`, `access_token_seconds`,
    `cut_report_at_row`."""

    def __init__(self) -> None:
        super().__init__()
        self.user_id = "70001"
        self.accounts: list[MsAccount] = []
        self.redirect_uris: set[str] = set()
        self.codes: dict[str, dict[str, str]] = {}
        self.refresh_tokens: set[str] = set()
        self.access_tokens: set[str] = set()
        self.reports: dict[str, dict[str, Any]] = {}
        self.downloads: dict[str, bytes] = {}
        self.pending_polls = 1
        self.report_error = False
        self.fail_next: list[Any] = []
        self.access_token_seconds = 3600  # `expires_in` of the access tokens issued
        # The report file breaks off inside data row N (a cut-short build), zipped intact.
        self.cut_report_at_row: int | None = None
        self._ids = itertools.count(30000001234567890)

    def issue_refresh_token(self) -> str:
        token = "M.C5-stub-" + secrets.token_urlsafe(16)
        self.refresh_tokens.add(token)
        return token

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def handle(self, request: Request) -> Response:
        if request.path == "/common/oauth2/v2.0/authorize":
            query = {k: v[0] for k, v in request.query.items()}
            if query.get("client_id") != CLIENT_ID or query.get("redirect_uri") not in \
                    self.redirect_uris:
                return Response(400, b"AADSTS50011: redirect URI mismatch")
            return Response.redirect(self.authorize_redirect(query))
        if request.path == "/common/oauth2/v2.0/token":
            return self._token(request)
        if request.path.startswith("/download/"):
            body = self.downloads.get(request.path.rsplit("/", 1)[-1])
            return Response(200, body, {"Content-Type": "application/zip"}) if body else Response(
                404, b"<Error>BlobNotFound</Error>")
        if self.fail_next:
            failure = self.fail_next.pop(0)
            if failure == "garbage":
                return Response(500, b"<html>oops</html>", {"Content-Type": "text/html"})
            status, code = failure
            headers = {"Retry-After": "0"} if status == 429 else {}
            return _fault(status, code, **headers)
        if request.header("developertoken") != DEVELOPER_TOKEN:
            return _fault(401, 105)
        bearer = (request.header("authorization") or "").removeprefix("Bearer ")
        if bearer not in self.access_tokens:
            return _fault(401, 109)
        body = request.json()
        routes = {
            "/CustomerManagement/v13/User/Query": self._user,
            "/CustomerManagement/v13/Accounts/Search": self._search,
            "/Reporting/v13/GenerateReport/Submit": self._submit,
            "/Reporting/v13/GenerateReport/Poll": self._poll,
            "/CampaignManagement/v13/Campaigns/QueryByAccountId": self._campaigns,
            "/CampaignManagement/v13/AdGroups/QueryByCampaignId": self._ad_groups,
            "/CampaignManagement/v13/Ads/QueryByAdGroupId": self._ads,
            "/CampaignManagement/v13/Keywords/QueryByAdGroupId": self._keywords,
            "/CampaignManagement/v13/AdExtensionsAssociations/Query": self._associations,
        }
        route = routes.get(request.path)
        if route is None or request.method != "POST":
            return Response(404, b"")
        if request.path.startswith(("/Reporting/", "/CampaignManagement/")):
            account_id = request.header("customeraccountid")
            account = next((a for a in self.accounts if a.id == account_id), None)
            if account is None or request.header("customerid") != account.parent_customer_id:
                return _fault(400, 106)
        return route(body, request)

    def _token(self, request: Request) -> Response:
        form = request.form()
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret.")
        if form.get("grant_type") == "refresh_token":
            token = form.get("refresh_token", "")
            if token not in self.refresh_tokens:
                return _oauth_error(400, "invalid_grant",
                                    "AADSTS70000: The provided grant has expired or was revoked.")
            self.refresh_tokens.discard(token)  # Microsoft rotates refresh tokens
            return Response.json(self._tokens())
        if form.get("grant_type") == "authorization_code":
            if self.codes.pop(form.get("code", ""), None) is None:
                return _oauth_error(400, "invalid_grant", "AADSTS70000: Invalid code.")
            return Response.json(self._tokens())
        return _oauth_error(400, "unsupported_grant_type", "AADSTS70003")

    def _tokens(self) -> dict[str, Any]:
        access = "EwB-stub-" + secrets.token_urlsafe(16)
        self.access_tokens.add(access)
        return {"token_type": "Bearer", "scope": "https://ads.microsoft.com/msads.manage",
                "expires_in": self.access_token_seconds,
                "ext_expires_in": self.access_token_seconds, "access_token": access,
                "refresh_token": self.issue_refresh_token()}

    def authorize_redirect(self, query: dict[str, str]) -> str:
        code = "M.stubcode-" + secrets.token_urlsafe(8)
        self.codes[code] = query
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    # --- Campaign Management ----------------------------------------------------------

    def _account(self, request: Request) -> MsAccount:
        return next(a for a in self.accounts if a.id == request.header("customeraccountid"))

    def _campaigns(self, body: dict[str, Any], request: Request) -> Response:
        account = self._account(request)
        if str(body.get("AccountId")) != account.id or not body.get("CampaignType"):
            return _fault(400, 1100)
        types = set(str(body["CampaignType"]).split())
        return Response.json({"Campaigns": [
            {"Id": c.id, "Name": c.name, "Status": c.status, "CampaignType": c.campaign_type,
             "BudgetType": "DailyBudgetStandard", "DailyBudget": 25.0, **c.fields}
            for c in account.entity_campaigns if c.campaign_type in types]})

    def _ad_groups(self, body: dict[str, Any], request: Request) -> Response:
        campaign = next((c for c in self._account(request).entity_campaigns
                         if c.id == str(body.get("CampaignId"))), None)
        if campaign is None:
            return _fault(400, 1100)
        return Response.json({"AdGroups": [{"Id": g.id, "Name": g.name, "Status": g.status,
                                            **g.fields} for g in campaign.ad_groups]})

    def _group(self, body: dict[str, Any], request: Request) -> MsAdGroup | None:
        return next((g for c in self._account(request).entity_campaigns for g in c.ad_groups
                     if g.id == str(body.get("AdGroupId"))), None)

    def _ads(self, body: dict[str, Any], request: Request) -> Response:
        group = self._group(body, request)
        if group is None or not body.get("AdTypes"):
            return _fault(400, 1201)
        return Response.json({"Ads": [a for a in group.ads if a["Type"] in body["AdTypes"]]})

    def _keywords(self, body: dict[str, Any], request: Request) -> Response:
        group = self._group(body, request)
        if group is None:
            return _fault(400, 1201)
        return Response.json({"Keywords": group.keywords})

    def _associations(self, body: dict[str, Any], request: Request) -> Response:
        account = self._account(request)
        wanted = set(str(body.get("AdExtensionType") or "").split())
        if str(body.get("AccountId")) != account.id or not wanted:
            return _fault(400, 1100)
        level = body.get("AssociationType")
        collections = []
        for entity_id in body.get("EntityIds") or []:
            collections.append({"AdExtensionAssociations": [
                {"AdExtension": extension, "AssociationType": level,
                 "EditorialStatus": "Active", "EntityId": str(entity_id)}
                for extension, links in account.extensions
                if extension["Type"] in wanted and (level, str(entity_id)) in links] or None})
        return Response.json({"AdExtensionAssociationCollection": collections,
                              "PartialErrors": None})

    def _user(self, body: dict[str, Any], request: Request) -> Response:
        return Response.json({"User": {"Id": self.user_id, "UserName": "ppc@agency.example",
                                       "CustomerId": "5000"},
                              "CustomerRoles": [{"RoleId": 41, "CustomerId": "5000"}]})

    def _search(self, body: dict[str, Any], request: Request) -> Response:
        predicates = body.get("Predicates") or []
        if len(predicates) != 1 or predicates[0].get("Value") != self.user_id:
            return _fault(400, 1043)
        page = body.get("PageInfo") or {}
        size, index = int(page.get("Size", 100)), int(page.get("Index", 0))
        if size > 1000:
            return _fault(400, 1043)
        chosen = sorted(self.accounts, key=lambda a: a.name)[index * size:(index + 1) * size]
        return Response.json({"Accounts": [{
            "Id": a.id, "Name": a.name, "Number": f"F{a.id}", "CurrencyCode": a.currency,
            "TimeZone": a.time_zone, "AccountLifeCycleStatus": a.status,
            "ParentCustomerId": a.parent_customer_id} for a in chosen]})

    def _submit(self, body: dict[str, Any], request: Request) -> Response:
        report = body.get("ReportRequest") or {}
        if report.get("Type") not in ("CampaignPerformanceReportRequest",
                                      "AccountPerformanceReportRequest",
                                      "AdGroupPerformanceReportRequest",
                                      "KeywordPerformanceReportRequest"):
            return _fault(400, 2001)
        report_id = str(next(self._ids))
        self.reports[report_id] = {"request": report, "polls": 0,
                                   "account": request.header("customeraccountid")}
        return Response.json({"ReportRequestId": report_id})

    def _poll(self, body: dict[str, Any], request: Request) -> Response:
        report = self.reports.get(str(body.get("ReportRequestId")))
        if report is None:
            return _fault(400, 2100)
        report["polls"] += 1
        if report["polls"] <= self.pending_polls:
            return Response.json({"ReportRequestStatus": {"Status": "Pending",
                                                          "ReportDownloadUrl": None}})
        if self.report_error:
            return Response.json({"ReportRequestStatus": {"Status": "Error",
                                                          "ReportDownloadUrl": None}})
        content = self._csv(report)
        if content is None:
            return Response.json({"ReportRequestStatus": {"Status": "Success",
                                                          "ReportDownloadUrl": None}})
        key = secrets.token_urlsafe(8) + ".zip"
        self.downloads[key] = content
        return Response.json({"ReportRequestStatus": {
            "Status": "Success", "ReportDownloadUrl": f"{self.url}/download/{key}"}})

    def _csv(self, report: dict[str, Any]) -> bytes | None:
        request = report["request"]
        account = next(a for a in self.accounts if a.id == report["account"])
        time_range = request["Time"]
        first = date(**{k.lower(): v for k, v in time_range["CustomDateRangeStart"].items()})
        last = date(**{k.lower(): v for k, v in time_range["CustomDateRangeEnd"].items()})
        columns = request["Columns"]
        rows = []
        for name, days in sorted(account.campaigns.items()):
            for day, impressions, clicks, spend, conversions, revenue in days:
                if first <= day <= last:
                    values = {"TimePeriod": day.isoformat(), "CampaignName": name,
                              "CampaignId": str(zlib.crc32(name.encode())),
                              "Impressions": str(impressions), "Clicks": str(clicks),
                              "Spend": spend, "Conversions": conversions, "Revenue": revenue,
                              "AccountId": account.id}
                    rows.append([values.get(c, "") for c in columns])
        if not rows:
            return None
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        if not request.get("ExcludeReportHeader"):
            out.write(f'"Report Name: ppc-robot"\r\n"Rows: {len(rows)}"\r\n\r\n')
        writer.writerow(columns)
        if self.cut_report_at_row is not None:
            writer.writerows(rows[:self.cut_report_at_row])
            broken = io.StringIO()
            csv.writer(broken, quoting=csv.QUOTE_ALL).writerow(rows[self.cut_report_at_row])
            out.write(broken.getvalue()[:len(broken.getvalue()) // 2])
        else:
            writer.writerows(rows)
        if not request.get("ExcludeReportFooter") and self.cut_report_at_row is None:
            out.write('\r\n"@2026 Microsoft Corporation. All rights reserved. "\r\n')
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr("report.csv", "\ufeff" + out.getvalue())
        return archive.getvalue()


def _fault(status: int, code: int, **headers: str) -> Response:
    names = {105: "InvalidCredentials", 106: "UserIsNotAuthorized", 108: "UserCompromised",
             109: "AuthenticationTokenExpired", 120: "UserLoginAccessDenied",
             122: "PersonalIdentityNotAvailable", 117: "CallRateExceeded", 0: "InternalError",
             207: "ConcurrentRequestOverLimit", 2100: "ReportingServiceInvalidReportId"}
    if code in (105, 106, 108, 109, 120, 122):
        body = {"Errors": [{"Code": code, "Detail": None, "ErrorCode": names[code],
                            "Message": names[code]}], "TrackingId": "stub",
                "Type": "AdApiFaultDetail"}
    else:
        body = {"OperationErrors": [{"Code": code, "ErrorCode": names.get(code, "Invalid"),
                                     "Details": None, "Message": "error"}],
                "BatchErrors": [], "TrackingId": "stub", "Type": "ApiFaultDetail"}
    return Response.json(body, status, **headers)


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response.json({"error": error, "error_description": description,
                          "error_codes": [70000], "trace_id": "stub"}, status)
