"""The URL checker's engine: normalising and de-duplicating landing pages, checking them
safely (guard.py), politely and concurrently (checker.py), one URL at a time (fetch.py).

| module | what it does |
| --- | --- |
| urls.py | normalise_url, UrlUse, deduplicate (every place of use kept) |
| settings.py | CheckSettings, the default soft-404 phrases |
| guard.py | refusing internal addresses after resolving, on every hop (no DNS-rebinding gap) |
| fetch.py | one URL: HEAD/GET, redirects by hand, soft-404 and monitored text, errors in words |
| checker.py | many URLs: bounded concurrency, per-host politeness, retry of inconclusive ones |
| results.py | UrlStatus, CheckResult |
"""

from ppc_robot.lib.urlcheck.checker import check_all, check_urls
from ppc_robot.lib.urlcheck.guard import refusal_of
from ppc_robot.lib.urlcheck.results import BROKEN_STATUSES, STATUS_LABELS, CheckResult, UrlStatus
from ppc_robot.lib.urlcheck.settings import DEFAULT_SOFT_404_PHRASES, CheckSettings
from ppc_robot.lib.urlcheck.urls import (
    CollectedUrl,
    MalformedUrl,
    UrlUse,
    deduplicate,
    normalise_url,
)

__all__ = [
    "BROKEN_STATUSES",
    "DEFAULT_SOFT_404_PHRASES",
    "STATUS_LABELS",
    "CheckResult",
    "CheckSettings",
    "CollectedUrl",
    "MalformedUrl",
    "UrlStatus",
    "UrlUse",
    "check_all",
    "check_urls",
    "deduplicate",
    "normalise_url",
    "refusal_of",
]
