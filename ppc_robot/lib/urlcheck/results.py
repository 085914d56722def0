"""What checking one URL found: its status, the words for it, the redirect chain."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class UrlStatus(enum.StrEnum):
    OK = "ok"
    REDIRECT = "redirect"  # redirected, and the last page answered well
    BROKEN = "broken"
    INCONCLUSIVE = "inconclusive"  # bot protection or overload: neither broken nor fine
    MALFORMED = "malformed"


BROKEN_STATUSES = frozenset({UrlStatus.BROKEN, UrlStatus.MALFORMED})

STATUS_LABELS = {
    UrlStatus.OK: "OK",
    UrlStatus.REDIRECT: "Redirect",
    UrlStatus.BROKEN: "Broken",
    UrlStatus.INCONCLUSIVE: "Inconclusive",
    UrlStatus.MALFORMED: "Malformed",
}


@dataclass
class CheckResult:
    """One URL's outcome. `chain` lists each redirect as "301 → <next URL>"; `error` says in
    words what is wrong (empty when fine); `http_status` is the last answer's status."""

    url: str
    status: UrlStatus
    error: str = ""
    http_status: int | None = None
    final_url: str | None = None
    chain: list[str] = field(default_factory=list)
    response_ms: int | None = None
    attempts: int = 1
    retry_after: float | None = None

    @property
    def is_broken(self) -> bool:
        return self.status in BROKEN_STATUSES
