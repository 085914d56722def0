"""OAuth 2 authorization-code flow with PKCE for Google Ads and Microsoft Advertising."""

from __future__ import annotations

import base64
import copy
import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from ppc_robot.lib.models import Platform, utcnow
from ppc_robot.lib.platforms.base import (
    BadRequestError,
    InvalidCredentialsError,
    PlatformError,
    PlatformSettingsError,
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
# A stored access token is used only while it has this much life left: a call made with it
# must not expire in flight, and a refused one is refreshed anyway. A token living shorter
# than a few margins keeps the last quarter of its life as its margin instead, so that it
# serves its first three quarters rather than being refreshed before every call.
ACCESS_TOKEN_MARGIN = timedelta(minutes=5)
ACCESS_TOKEN_MARGIN_SHARE = 0.25
# Token endpoint errors about the app's own OAuth client, not the user's grant (RFC 6749 5.2).
CLIENT_ERRORS = ("invalid_client", "unauthorized_client")
CLIENT_SETTINGS = {
    Platform.GOOGLE_ADS: "PPC_ROBOT_GOOGLE_CLIENT_ID and PPC_ROBOT_GOOGLE_CLIENT_SECRET",
    Platform.MICROSOFT: "PPC_ROBOT_MICROSOFT_CLIENT_ID and PPC_ROBOT_MICROSOFT_CLIENT_SECRET",
}
# When a token answer does not say how long the access token lasts (both platforms say an hour).
DEFAULT_ACCESS_TOKEN_SECONDS = 3600


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
    raise token_error(provider.platform, response, body if isinstance(body, dict) else {})


def token_error(platform: Platform, response: httpx.Response,
                body: dict[str, Any]) -> PlatformError:
    """The typed error of a refused token request: the user's grant (re-authorise), or this
    app's OAuth client (the administrator's settings)."""
    label = platform.label
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
    if error in CLIENT_ERRORS:
        setting = CLIENT_SETTINGS[platform]
        return PlatformSettingsError(
            f"{label}'s sign-in service refused this installation's OAuth client ({error}); "
            f"the administrator must correct {setting}. The login itself was not touched.",
            setting)
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


def token_credentials(tokens: dict[str, Any], refresh_token: str,
                      now: datetime | None = None) -> dict[str, Any]:
    """The credentials to store from a token answer: the refresh token (rotated, when the
    answer carries a new one) and the access token with the time it expires."""
    now = now or utcnow()
    lifetime = float(tokens.get("expires_in") or DEFAULT_ACCESS_TOKEN_SECONDS)
    return {"refresh_token": str(tokens.get("refresh_token") or refresh_token),
            "access_token": str(tokens["access_token"]),
            "access_token_expires_at": (now + timedelta(seconds=lifetime)).isoformat(),
            "access_token_lifetime_seconds": lifetime}


def refresh_margin(lifetime_seconds: float | None) -> timedelta:
    """How long before its end an access token of this lifetime is replaced."""
    if lifetime_seconds is None or lifetime_seconds <= 0:
        return ACCESS_TOKEN_MARGIN
    return min(ACCESS_TOKEN_MARGIN, timedelta(seconds=lifetime_seconds * ACCESS_TOKEN_MARGIN_SHARE))


class AccessTokens:
    """One login's OAuth access token, shared by the threads of a run.

    The stored access token serves while it is valid; a new one is asked for only when it
    is missing, about to expire, or the platform refused it. What a refresh brought (the
    access token, and the refresh token where the platform rotates it) comes back from
    `updated_credentials()`, for the caller to store encrypted. A rotated refresh token is
    also handed to `on_rotate` at once: the old one may stop working as soon as the new one is
    issued, so it must be stored before anything else can go wrong.
    """

    def __init__(self, provider: OAuthProvider, settings: PlatformSettings,
                 credentials: dict[str, Any], *, clock: Callable[[], datetime] = utcnow,
                 on_rotate: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._provider, self._settings, self._clock = provider, settings, clock
        self._on_rotate = on_rotate
        self._credentials = dict(credentials)
        self._access_token: str | None = None
        self._expires_at: datetime | None = None
        self._margin = ACCESS_TOKEN_MARGIN
        stored = credentials.get("access_token")
        expires_at = _parse_time(credentials.get("access_token_expires_at"))
        if stored and expires_at is not None:
            self._access_token, self._expires_at = str(stored), expires_at
            self._margin = refresh_margin(_seconds(credentials.get("access_token_lifetime_seconds")))
        self._updated = False
        self._refusal: InvalidCredentialsError | PlatformSettingsError | None = None
        self._lock = threading.Lock()

    @property
    def refresh_token(self) -> str:
        return str(self._credentials.get("refresh_token") or "")

    def current(self) -> str:
        """A valid access token: the one held while it lasts, else a refreshed one."""
        with self._lock:
            if self._refusal is not None:  # a refused authorisation is not asked for again
                raise copy.copy(self._refusal)
            if self._access_token is None or self._expiring():
                try:
                    self._refresh()
                except (InvalidCredentialsError, PlatformSettingsError) as exc:
                    self._refusal = exc
                    raise
            assert self._access_token is not None
            return self._access_token

    def refused(self, token: str) -> None:
        """The platform refused `token`: the next `current()` refreshes, once for all threads."""
        with self._lock:
            if self._access_token == token:
                self._access_token = None

    def updated_credentials(self) -> dict[str, Any] | None:
        """The credentials with what the refreshes brought, or None when nothing was refreshed."""
        with self._lock:
            return dict(self._credentials) if self._updated else None

    def _expiring(self) -> bool:
        return self._expires_at is None or self._expires_at - self._margin <= self._clock()

    def _refresh(self) -> None:
        label = self._provider.platform.label
        if not self.refresh_token:
            raise InvalidCredentialsError(f"No {label} authorisation is stored for this login.")
        now = self._clock()
        previous = self.refresh_token
        tokens = refresh_access_token(self._provider, self._settings, previous)
        self._credentials.update(token_credentials(tokens, previous, now))
        self._access_token = str(tokens["access_token"])
        self._expires_at = _parse_time(self._credentials["access_token_expires_at"])
        self._margin = refresh_margin(self._credentials["access_token_lifetime_seconds"])
        self._updated = True
        if self._on_rotate is not None and self.refresh_token != previous:
            self._on_rotate(dict(self._credentials))


def _seconds(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _parse_time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
