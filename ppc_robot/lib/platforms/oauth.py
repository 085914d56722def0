"""OAuth 2 authorization-code flow with PKCE for Google Ads and Microsoft Advertising."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms.base import (
    BadRequestError,
    InvalidCredentialsError,
    PlatformError,
    RateLimitedError,
    RevokedCredentialsError,
    TemporaryError,
)
from ppc_robot.lib.platforms.http import make_http, retry_after_seconds, send
from ppc_robot.lib.platforms.settings import PlatformSettings

OAUTH_PLATFORMS = (Platform.GOOGLE_ADS, Platform.MICROSOFT)
SCOPES = {
    # Ads to read reports, Sheets to write the reports that go to a Google spreadsheet.
    Platform.GOOGLE_ADS: (
        "https://www.googleapis.com/auth/adwords https://www.googleapis.com/auth/spreadsheets"),
    Platform.MICROSOFT: "openid offline_access https://ads.microsoft.com/msads.manage",
}


@dataclass(frozen=True)
class OAuthProvider:
    platform: Platform
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str

    @classmethod
    def of(cls, platform: Platform, settings: PlatformSettings) -> OAuthProvider:
        if platform is Platform.GOOGLE_ADS:
            return cls(platform, settings.google_oauth_authorize_url,
                       settings.google_oauth_token_url, settings.google_client_id,
                       settings.google_client_secret)
        if platform is Platform.MICROSOFT:
            return cls(platform, settings.microsoft_oauth_authorize_url,
                       settings.microsoft_oauth_token_url, settings.microsoft_client_id,
                       settings.microsoft_client_secret)
        raise ValueError(f"{platform} does not link through OAuth")


def new_state() -> str:
    """A single-use random value binding the callback to the browser session."""
    return secrets.token_urlsafe(32)


def new_pkce() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(provider: OAuthProvider, *, redirect_uri: str, state: str,
                      code_challenge: str) -> str:
    """Where to send the browser for consent; asks for offline access (a refresh token)."""
    params = {
        "client_id": provider.client_id, "redirect_uri": redirect_uri, "response_type": "code",
        "scope": SCOPES[provider.platform], "state": state, "code_challenge": code_challenge,
        "code_challenge_method": "S256", "prompt": "consent",
    }
    if provider.platform is Platform.GOOGLE_ADS:
        params["access_type"] = "offline"
    else:
        params["response_mode"] = "query"
    return f"{provider.authorize_url}?{urlencode(params)}"


def _token_call(provider: OAuthProvider, settings: PlatformSettings,
                form: dict[str, str]) -> dict[str, Any]:
    form = {"client_id": provider.client_id, "client_secret": provider.client_secret, **form}
    if provider.platform is Platform.MICROSOFT:
        form["scope"] = "https://ads.microsoft.com/msads.manage offline_access"
    label = provider.platform.label
    with make_http(settings) as http:
        response = send(http, http.build_request("POST", provider.token_url, data=form), label)
    try:
        body = response.json()
    except ValueError as exc:
        raise TemporaryError(f"{label}'s sign-in service answered with something that is not "
                             "JSON.") from exc
    if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
        return body
    raise token_error(label, response, body if isinstance(body, dict) else {})


def token_error(label: str, response: httpx.Response, body: dict[str, Any]) -> PlatformError:
    """The typed error of a refused token request."""
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or "")
    if response.status_code == 429:
        return RateLimitedError(f"{label}'s sign-in service is rate limited.",
                                retry_after_seconds(response))
    if response.status_code >= 500:
        return TemporaryError(f"{label}'s sign-in service failed; try again later.")
    if error == "invalid_grant":
        if "revoked" in description.lower():
            return RevokedCredentialsError(
                f"{label} says the access was revoked or has expired; re-authorise the login.")
        return InvalidCredentialsError(
            f"{label} no longer accepts the stored authorisation; re-authorise the login.")
    if error == "invalid_client":
        return BadRequestError(f"{label} does not know this app's client id or secret; "
                               "ask the administrator to check the OAuth settings.")
    return BadRequestError(f"{label} refused the sign-in request ({error or response.status_code}).")


def exchange_code(provider: OAuthProvider, settings: PlatformSettings, *, code: str,
                  redirect_uri: str, code_verifier: str) -> dict[str, Any]:
    """Trade the callback's code for tokens; raises InvalidCredentialsError when refused."""
    tokens = _token_call(provider, settings, {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": code_verifier})
    if not tokens.get("refresh_token"):
        raise InvalidCredentialsError(
            f"{provider.platform.label} granted no offline access; link the login again and "
            "allow it.")
    return tokens


def refresh_access_token(provider: OAuthProvider, settings: PlatformSettings,
                         refresh_token: str) -> dict[str, Any]:
    """A fresh access token (and, with Microsoft, a new refresh token to store)."""
    return _token_call(provider, settings, {"grant_type": "refresh_token",
                                            "refresh_token": refresh_token})
