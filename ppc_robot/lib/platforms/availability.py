"""Whether this server can link a platform: OAuth platforms need the operator's app credentials.

Google Ads and Microsoft Advertising are linked through an OAuth client (and called with a
developer token) that the administrator registers and configures; without them the consent
page would only answer with an error, so linking is refused up front, naming the settings.
"""

from __future__ import annotations

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms.settings import PlatformSettings

# Per platform: (PlatformSettings field, the environment variable an administrator sets).
REQUIRED_SETTINGS: dict[Platform, tuple[tuple[str, str], ...]] = {
    Platform.GOOGLE_ADS: (
        ("google_client_id", "PPC_ROBOT_GOOGLE_CLIENT_ID"),
        ("google_client_secret", "PPC_ROBOT_GOOGLE_CLIENT_SECRET"),
        ("google_ads_developer_token", "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN"),
    ),
    Platform.MICROSOFT: (
        ("microsoft_client_id", "PPC_ROBOT_MICROSOFT_CLIENT_ID"),
        ("microsoft_client_secret", "PPC_ROBOT_MICROSOFT_CLIENT_SECRET"),
        ("microsoft_developer_token", "PPC_ROBOT_MICROSOFT_DEVELOPER_TOKEN"),
    ),
}


class PlatformNotConfigured(PpcRobotError):
    """The server lacks the settings to link this platform; the message names them."""


def missing_settings(platform: Platform, settings: PlatformSettings) -> list[str]:
    """The environment variables an administrator must still set before `platform` links."""
    return [variable for name, variable in REQUIRED_SETTINGS.get(platform, ())
            if not str(getattr(settings, name) or "").strip()]


def not_configured(platform: Platform, missing: list[str]) -> PlatformNotConfigured:
    """The refusal naming what an administrator must set (a msgid with its values)."""
    return PlatformNotConfigured(
        N_("%(platform)s is not set up on this server: an administrator provides %(settings)s "
           "(see the README's configuration table)."),
        platform=platform.label, settings=", ".join(missing))


def require_configured(platform: Platform, settings: PlatformSettings) -> None:
    """Raises PlatformNotConfigured when `platform` cannot be linked on this server."""
    missing = missing_settings(platform, settings)
    if missing:
        raise not_configured(platform, missing)
