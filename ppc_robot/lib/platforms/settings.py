"""Platform settings: base URLs, app credentials and retry knobs, from app config or environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class PlatformSettings:
    """Everything an adapter needs besides the user's credentials; every URL overridable."""

    sklik_url: str = "https://api.sklik.cz/drak/json/v5"
    google_ads_url: str = "https://googleads.googleapis.com"
    google_ads_version: str = "v25"
    google_ads_developer_token: str = ""
    google_oauth_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_oauth_token_url: str = "https://oauth2.googleapis.com/token"
    google_client_id: str = ""
    google_client_secret: str = ""
    microsoft_customer_url: str = "https://clientcenter.api.bingads.microsoft.com"
    microsoft_reporting_url: str = "https://reporting.api.bingads.microsoft.com"
    microsoft_campaign_url: str = "https://campaign.api.bingads.microsoft.com"
    microsoft_developer_token: str = ""
    microsoft_oauth_authorize_url: str = (
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize")
    microsoft_oauth_token_url: str = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    microsoft_client_id: str = ""
    microsoft_client_secret: str = ""
    timeout_seconds: float = 30.0
    retry_attempts: int = 3
    retry_max_wait_seconds: float = 30.0
    report_poll_interval_seconds: float = 5.0
    report_poll_attempts: int = 120
    sync_interval_hours: float = 6.0
    # The app's own address (PPC_ROBOT_BASE_URL): the Sandbox's ads link to its demo site.
    base_url: str = "http://127.0.0.1:5000"
    # PPC_ROBOT_QUOTA_<PLATFORM>_<PERIOD> keys of the config, for lib/platforms/quota.py.
    quota_overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None = None) -> PlatformSettings:
        """Read `PPC_ROBOT_<FIELD>` keys from `config`, then from the environment."""
        config = config or {}
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name == "quota_overrides":
                values[spec.name] = {k: str(v) for k, v in config.items()
                                     if str(k).startswith("PPC_ROBOT_QUOTA_")}
                continue
            key = f"PPC_ROBOT_{spec.name.upper()}"
            raw = config.get(key, os.environ.get(key))
            if raw is None or raw == "":
                continue
            kind = type(spec.default)
            values[spec.name] = kind(raw) if kind in (int, float) else str(raw).rstrip("/")
        return cls(**values)
