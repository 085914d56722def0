"""The platform interface: credentials, client accounts, report rows, and typed errors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.models import ClientAccountStatus

DIMENSIONS = ("date", "campaign", "ad_group", "keyword", "device")
# The entities whose landing pages the URL checker reads (`PlatformClient.landing_pages`).
LANDING_PAGE_ENTITIES = ("ad", "ad_mobile", "keyword", "sitelink")
METRICS = ("impressions", "clicks", "cost", "conversions", "conversion_value")


class PlatformError(PpcRobotError):
    """A platform refused or failed a call; the message is a sentence for the user."""

    retryable = False


class InvalidCredentialsError(PlatformError):
    """The stored credentials are wrong or expired: the login needs re-authorising."""


class RevokedCredentialsError(InvalidCredentialsError):
    """The user withdrew the app's access on the platform."""


class RateLimitedError(PlatformError):
    """Too many calls for now; `retry_after` seconds until the next may succeed."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TemporaryError(PlatformError):
    """The platform failed on its side (5xx, timeout, garbage): retry later."""

    retryable = True


class BadRequestError(PlatformError):
    """The platform refused the request itself; retrying the same call cannot help."""


class PlatformSettingsError(BadRequestError):
    """The platform refused this installation's own settings (developer token, API version,
    OAuth client, address), not the user's login: re-authorising cannot help, the
    administrator must correct `setting` (the environment variable, or several)."""

    def __init__(self, message: str, setting: str = "") -> None:
        super().__init__(message)
        self.setting = setting


class AccessDeniedError(BadRequestError):
    """The login may not read that account (any more)."""


class QuotaExhaustedError(PlatformError):
    """A daily quota is used up; nothing is called before `next_attempt_at`."""

    def __init__(self, message: str, next_attempt_at: datetime) -> None:
        super().__init__(message)
        self.next_attempt_at = next_attempt_at


@dataclass(frozen=True)
class RemoteAccount:
    """A client account as the platform describes it."""

    external_id: str
    name: str
    currency: str
    time_zone: str
    status: ClientAccountStatus = ClientAccountStatus.ACTIVE
    # What the adapter needs later to reach it (e.g. Microsoft's parent customer id).
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Identity:
    """Who the credentials belong to: the service account's id and name on the platform."""

    external_id: str
    name: str


@dataclass(frozen=True)
class ReportRow:
    """One normalised row: dimension values (None when not asked for) and base metrics."""

    date: date | None = None
    campaign: str | None = None
    ad_group: str | None = None
    keyword: str | None = None
    device: str | None = None
    # The platform's own id of the campaign, when the campaign dimension was asked for and
    # the platform names it (names change, ids do not): the statistics store keys on it.
    campaign_id: str | None = None
    impressions: int = 0
    clicks: int = 0
    cost: Decimal = Decimal("0")
    conversions: Decimal = Decimal("0")
    conversion_value: Decimal = Decimal("0")


@dataclass(frozen=True)
class ReportRequest:
    """What to fetch for one client account."""

    account: RemoteAccount
    date_from: date
    date_to: date
    dimensions: Sequence[str] = ("date",)
    metrics: Sequence[str] = METRICS

    def __post_init__(self) -> None:
        unknown = set(self.dimensions) - set(DIMENSIONS)
        if unknown:
            raise ValueError(f"unknown dimensions {sorted(unknown)}")
        if self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")


@dataclass(frozen=True)
class LandingPage:
    """One place an account sends clicks to: a final URL of an ad, keyword or sitelink.

    `url` is what a click lands on, as the platform builds it: the final URL with the final-URL
    suffix appended and the platform's placeholders (`{lpurl}`, `{keyword}`…) resolved or
    stripped as the platform documents. Removed entities are never listed; paused ones carry
    `paused=True` (their campaign or ad group paused counts too).
    """

    url: str
    entity_type: str  # one of LANDING_PAGE_ENTITIES
    entity_id: str
    campaign_id: str | None = None
    campaign: str | None = None
    ad_group_id: str | None = None
    ad_group: str | None = None
    paused: bool = False


class PlatformClient(Protocol):
    """One service account's connection to its platform."""

    def check_credentials(self) -> Identity:
        """Who the credentials belong to; raises InvalidCredentialsError when refused."""
        ...

    def list_accounts(self) -> list[RemoteAccount]:
        """Every client account the login reaches (a lone manager lists itself)."""
        ...

    def fetch_report(self, request: ReportRequest) -> Iterator[ReportRow]:
        """Rows for one client account, streamed page by page."""
        ...

    def landing_pages(
        self, account: RemoteAccount, entities: Sequence[str] = LANDING_PAGE_ENTITIES
    ) -> Iterator[LandingPage]:
        """Every landing page of the account's entities of the given types (see LandingPage)."""
        ...

    def updated_credentials(self) -> dict[str, Any] | None:
        """Credentials the calls refreshed (a new access token, a rotated refresh token): store
        them; None when nothing changed."""
        ...


def to_decimal(value: Any) -> Decimal:
    """A JSON number or numeric string as an exact Decimal (floats through their repr)."""
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def micros_to_money(value: Any) -> Decimal:
    """Micros (int64, often a JSON string) to currency units, exactly."""
    return to_decimal(value).scaleb(-6)
