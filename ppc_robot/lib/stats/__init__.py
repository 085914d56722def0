"""The statistics store: daily rows per client account and campaign, kept fresh by the
worker's housekeeping (daily re-pulls after each account's midnight, 13-month backfills)."""

from ppc_robot.lib.stats.backfill import (
    StoreProgress,
    backfill_account,
    request_refresh,
    store_progress,
)
from ppc_robot.lib.stats.claims import claim_backfills, claim_refreshes, create_missing_states
from ppc_robot.lib.stats.refresh import StepReport, refresh_account, refresh_due_statistics
from ppc_robot.lib.stats.schedule import (
    backfill_range,
    local_yesterday,
    next_chunk,
    next_refresh_after,
    repull_range,
)
from ppc_robot.lib.stats.settings import StatsSettings
from ppc_robot.lib.stats.store import AccountRef, store_days

__all__ = [
    "AccountRef",
    "StatsSettings",
    "StepReport",
    "StoreProgress",
    "backfill_account",
    "backfill_range",
    "claim_backfills",
    "claim_refreshes",
    "create_missing_states",
    "local_yesterday",
    "next_chunk",
    "next_refresh_after",
    "refresh_account",
    "refresh_due_statistics",
    "repull_range",
    "request_refresh",
    "store_days",
    "store_progress",
]
