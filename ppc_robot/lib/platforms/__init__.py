"""Ad platforms behind one interface; `make_client` picks the adapter for a platform."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms.base import (
    DIMENSIONS,
    METRICS,
    AccessDeniedError,
    BadRequestError,
    Identity,
    InvalidCredentialsError,
    PlatformClient,
    PlatformError,
    PlatformSettingsError,
    QuotaExhaustedError,
    RateLimitedError,
    RemoteAccount,
    ReportRequest,
    ReportRow,
    RevokedCredentialsError,
    TemporaryError,
)
from ppc_robot.lib.platforms.settings import PlatformSettings

__all__ = [
    "DIMENSIONS",
    "METRICS",
    "AccessDeniedError",
    "BadRequestError",
    "Identity",
    "InvalidCredentialsError",
    "PlatformClient",
    "PlatformError",
    "PlatformSettings",
    "PlatformSettingsError",
    "QuotaExhaustedError",
    "RateLimitedError",
    "RemoteAccount",
    "ReportRequest",
    "ReportRow",
    "RevokedCredentialsError",
    "TemporaryError",
    "make_client",
]


def make_client(
    platform: Platform,
    credentials: dict[str, Any],
    settings: PlatformSettings,
    *,
    before_call: Callable[[], None] | None = None,
    on_rotate: Callable[[dict[str, Any]], None] | None = None,
) -> PlatformClient:
    """The adapter of `platform` for one login; `before_call` runs before every API call, and
    `on_rotate` gets the credentials as soon as an OAuth platform rotates the refresh token."""
    if platform is Platform.SANDBOX:
        from ppc_robot.lib.platforms.sandbox import SandboxClient

        return SandboxClient(credentials, base_url=settings.base_url)
    if platform is Platform.SKLIK:
        from ppc_robot.lib.platforms.sklik import SklikClient

        return SklikClient(credentials, settings, before_call)
    if platform is Platform.GOOGLE_ADS:
        from ppc_robot.lib.platforms.google_ads import GoogleAdsClient

        return GoogleAdsClient(credentials, settings, before_call, on_rotate)
    if platform is Platform.MICROSOFT:
        from ppc_robot.lib.platforms.microsoft import MicrosoftClient

        return MicrosoftClient(credentials, settings, before_call, on_rotate)
    raise ValueError(f"unknown platform {platform!r}")
