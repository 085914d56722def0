"""How the checker behaves: concurrency, politeness, timeouts, what a broken page says."""

from __future__ import annotations

from dataclasses import dataclass, field

# Shown prefilled in the job editor, one per line; the user may edit or empty them.
DEFAULT_SOFT_404_PHRASES = (
    "Page not found",
    "Page cannot be found",
    "This page does not exist",
    "Product is no longer available",
    "Stránka nenalezena",
    "Stránka neexistuje",
    "Produkt již není dostupný",
    "Zboží již není v nabídce",
    "Stránka sa nenašla",
)

MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "Mozilla/5.0 (compatible; PPC-Robot-URL-checker/1.0)"


@dataclass(frozen=True)
class CheckSettings:
    """`per_host` None lifts the per-host limit; `allowed_hosts` may be fetched though they
    resolve to internal addresses (the app's own demo site)."""

    concurrency: int = 32
    per_host: int | None = 2
    min_interval: float = 0.25  # seconds between two requests' starts on one host
    connect_timeout: float = 10.0
    total_timeout: float = 30.0  # one URL, all its redirects included
    max_redirects: int = 10
    max_body: int = MAX_BODY_BYTES
    soft_404_phrases: tuple[str, ...] = DEFAULT_SOFT_404_PHRASES
    monitor_text: str = ""
    allowed_hosts: tuple[str, ...] = ()
    retry_inconclusive: bool = True
    default_retry_wait: float = 5.0
    max_retry_wait: float = 60.0
    verify_tls: bool = True
    user_agent: str = USER_AGENT
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def needs_body(self) -> bool:
        return bool(self.soft_404_phrases or self.monitor_text)
