"""The statistics store's knobs, read from the app's configuration or the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ppc_robot.lib.platforms import PlatformSettings


@dataclass(frozen=True)
class StatsSettings:
    """How and when the housekeeping keeps the store fresh. Tests run the waits at zero."""

    # Hours after an account's own midnight before yesterday is pulled (the platforms finish
    # the day's numbers a little after midnight).
    settle_hours: float = 3.0
    # Days re-pulled every day: conversions arrive late, so recent days keep changing.
    repull_days: int = 7
    # Accounts fetched at once, across logins.
    concurrency: int = 8
    # Accounts claimed per housekeeping step (refreshes and backfills each): the step stays
    # bounded in time; the rest wait for the next step.
    batch: int = 200
    backfill_months: int = 13
    # One platform request per chunk of this many months: 13 months take 5 requests.
    chunk_months: int = 3
    # A claim is held this long; a worker that died holding it is replaced after it lapses.
    lease_seconds: float = 900.0
    # The first wait after a failed refresh; it doubles per failure up to `retry_max_seconds`.
    retry_seconds: float = 300.0
    retry_max_seconds: float = 6 * 3600.0
    # Longest pause before fetching again after a rate limit within one refresh.
    rate_limit_wait_seconds: float = 30.0
    fetch_attempts: int = 3
    # A re-pulled day whose cost, conversions or conversion value moved by more than this many
    # percent tells the jobs that delivered it (lib/alerts/restatements.py).
    moved_percent: Decimal = Decimal(5)
    platform: PlatformSettings = field(default_factory=PlatformSettings)
    credentials_key: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> StatsSettings:
        """Settings from `config` (the app's), falling back to the environment
        (PPC_ROBOT_STATS_SETTLE_HOURS, _REPULL_DAYS, _CONCURRENCY, _BATCH, _BACKFILL_MONTHS,
        _CHUNK_MONTHS, _RETRY_SECONDS, _MOVED_PERCENT)."""
        config = dict(config or {})

        def value(name: str, default: float) -> float:
            raw = config.get(f"PPC_ROBOT_STATS_{name}", os.environ.get(f"PPC_ROBOT_STATS_{name}"))
            return float(raw) if raw not in (None, "") else default

        return cls(
            settle_hours=value("SETTLE_HOURS", 3),
            repull_days=max(1, int(value("REPULL_DAYS", 7))),
            concurrency=max(1, int(value("CONCURRENCY", 8))),
            batch=max(1, int(value("BATCH", 200))),
            backfill_months=max(0, int(value("BACKFILL_MONTHS", 13))),
            chunk_months=max(1, int(value("CHUNK_MONTHS", 3))),
            retry_seconds=value("RETRY_SECONDS", 300),
            moved_percent=Decimal(str(max(0.0, value("MOVED_PERCENT", 5)))),
            platform=PlatformSettings.from_mapping(config),
            credentials_key=str(config.get("PPC_ROBOT_CREDENTIALS_KEY")
                                or os.environ.get("PPC_ROBOT_CREDENTIALS_KEY", "")),
        )
