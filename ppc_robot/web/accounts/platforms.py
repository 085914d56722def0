"""The vault and platform settings of the running app, and the OAuth flow's session state."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, session, url_for

from ppc_robot.lib.accounts import vault_from_config
from ppc_robot.lib.admin import alert_admins
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.models import Platform
from ppc_robot.lib.platforms import PlatformSettings, PlatformSettingsError
from ppc_robot.lib.platforms.oauth import (
    OAuthProvider,
    authorization_url,
    new_pkce,
    new_state,
)
from ppc_robot.web.extensions import db

OAUTH_SESSION_KEY = "oauth_flow"
CALLBACKS = {Platform.GOOGLE_ADS: "oauth.google_ads", Platform.MICROSOFT: "oauth.microsoft"}


def current_vault() -> Vault:
    return vault_from_config(current_app.config["PPC_ROBOT_CREDENTIALS_KEY"])


def current_settings() -> PlatformSettings:
    return PlatformSettings.from_mapping(current_app.config)


def refused_link(platform: Platform, error: PpcRobotError) -> None:
    """After a refused link (rolled back): a refusal of this installation's own settings
    reaches the admins, in a commit of its own."""
    if isinstance(error, PlatformSettingsError):
        alert_admins(db.session(), platform, error)
        db.session.commit()


def redirect_uri(platform: Platform) -> str:
    """The provider's registered callback address on this site."""
    return url_for(CALLBACKS[platform], _external=True)


def start_oauth(platform: Platform) -> str:
    """Remember a fresh single-use state and PKCE verifier; the consent page's address."""
    state, (verifier, challenge) = new_state(), new_pkce()
    session[OAUTH_SESSION_KEY] = {"platform": platform.value, "state": state,
                                  "verifier": verifier}
    provider = OAuthProvider.of(platform, current_settings())
    return authorization_url(provider, redirect_uri=redirect_uri(platform), state=state,
                             code_challenge=challenge)


def take_oauth_flow(platform: Platform, state: str | None) -> dict[str, Any] | None:
    """The flow this callback belongs to, used up; None when the state does not match."""
    flow = session.pop(OAUTH_SESSION_KEY, None)
    if not isinstance(flow, dict) or flow.get("platform") != platform.value or not state:
        return None
    if not secrets.compare_digest(str(flow.get("state", "")), state):
        return None
    return flow
