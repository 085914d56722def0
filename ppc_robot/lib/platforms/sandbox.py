"""The Sandbox platform: deterministic synthetic data, no credentials, no network."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ppc_robot.lib.demo_site import LANDING_PATHS, demo_url
from ppc_robot.lib.platforms.base import (
    LANDING_PAGE_ENTITIES,
    BadRequestError,
    Identity,
    LandingPage,
    RemoteAccount,
    ReportRequest,
    ReportRow,
)

SANDBOX_LOGIN = Identity("sandbox", "Sandbox MCC")

SANDBOX_ACCOUNTS = (
    RemoteAccount("sandbox-1001", "Acme Shoes CZ", "CZK", "Europe/Prague"),
    RemoteAccount("sandbox-1002", "Acme Shoes SK", "EUR", "Europe/Bratislava"),
    RemoteAccount("sandbox-1003", "Garden Centre Brno", "CZK", "Europe/Prague"),
    RemoteAccount("sandbox-1004", "Bike Rental Vienna", "EUR", "Europe/Vienna"),
    RemoteAccount("sandbox-1005", "Pet Food Online", "CZK", "Europe/Prague"),
)

# Monday first: weekdays busier than the weekend, Sunday the quietest.
WEEKLY_SEASONALITY = (1.10, 1.08, 1.05, 1.00, 0.92, 0.70, 0.62)
CAMPAIGN_KINDS = ("Brand", "Generic", "Remarketing", "Shopping")
AD_GROUP_KINDS = ("Core", "Long tail", "Competitors")
KEYWORDS = ("buy", "cheap", "best", "online", "near me", "sale")
DEVICES = ("desktop", "mobile", "tablet")
DEVICE_SHARE = (0.38, 0.55, 0.07)
# Cost per click in the account's currency: CZK clicks cost about 25 times EUR ones.
CPC = {"CZK": (4.0, 18.0), "EUR": (0.15, 0.80)}
# The account that shows what the alerts are for, seen from the pull's own day: its first
# campaign served nothing over the last STOPPED_DAYS days (an anomaly; ten days, so a day once
# stored zero stays zero in every re-pull), and each conversion is reported up to LATE_DAYS
# days after its day ends (a restatement: recent days' conversions grow from pull to pull).
ALERTS_ACCOUNT = "sandbox-1005"
STOPPED_DAYS = 10
LATE_DAYS = 3
LATE_SHARE = (0.4, 0.3, 0.2, 0.1)  # how many conversions arrive 0, 1, 2, 3 days late


def _rng(*parts: Any) -> random.Random:
    seed = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def _campaign_id(account: RemoteAccount, campaign: str) -> str:
    """A campaign's stable numeric id, as platforms give one beside the name."""
    return str(_rng("campaign", account.external_id, campaign).randint(10**8, 10**9 - 1))


def _structure(account: RemoteAccount) -> list[tuple[str, list[str]]]:
    """A few campaigns with a few ad groups each, fixed per account."""
    rng = _rng("structure", account.external_id)
    campaigns = rng.sample(CAMPAIGN_KINDS, rng.randint(2, 4))
    short = account.name.split()[0]
    return [
        (f"{short} — {kind}", [f"{kind} — {group}" for group in
                               rng.sample(AD_GROUP_KINDS, rng.randint(1, 3))])
        for kind in campaigns
    ]


def _day_totals(account: RemoteAccount, day: date, campaign: str, ad_group: str,
                keyword: str, age: int | None = None) -> tuple[int, int, Decimal, Decimal, Decimal]:
    rng = _rng(account.external_id, day.isoformat(), campaign, ad_group, keyword)
    if rng.random() < 0.08:  # some days a keyword shows nowhere
        return 0, 0, Decimal("0"), Decimal("0"), Decimal("0")
    base = _rng("size", account.external_id, campaign, ad_group, keyword).randint(40, 900)
    impressions = int(base * WEEKLY_SEASONALITY[day.weekday()] * rng.uniform(0.75, 1.25))
    clicks = int(impressions * rng.uniform(0.01, 0.09))
    low, high = CPC.get(account.currency, CPC["EUR"])
    cost = (Decimal(clicks) * Decimal(str(round(rng.uniform(low, high), 2)))).quantize(
        Decimal("0.01"))
    conversions = sum(1 for _ in range(clicks) if rng.random() < 0.035)
    if age is not None:  # the conversions reported so far, `age` days after the day
        conversions = sum(1 for k in range(conversions) if _late_by(
            account, day, campaign, ad_group, keyword, k) < age)
    order_value = Decimal(str(round(rng.uniform(low * 60, high * 90), 2)))
    value = (order_value * conversions).quantize(Decimal("0.01"))
    return impressions, clicks, cost, Decimal(conversions), value


def _late_by(account: RemoteAccount, day: date, campaign: str, ad_group: str, keyword: str,
             index: int) -> int:
    """How many days after its day ends one conversion is reported."""
    draw = _rng("late", account.external_id, day.isoformat(), campaign, ad_group, keyword,
                index).random()
    for days, share in enumerate(LATE_SHARE):
        draw -= share
        if draw < 0:
            return days
    return LATE_DAYS


class SandboxClient:
    """A login to the Sandbox platform; the same request at the same day gives the same rows.

    Only ALERTS_ACCOUNT depends on the day of the pull (`clock`, the current time unless given).
    Its landing pages link to the app's own demo site at `base_url`.
    """

    def __init__(self, credentials: dict[str, Any] | None = None, *,
                 clock: Callable[[], datetime] | None = None,
                 base_url: str = "http://127.0.0.1:5000") -> None:
        self._credentials = credentials or {}
        self._clock = clock or (lambda: datetime.now(UTC))
        self._base_url = base_url

    def check_credentials(self) -> Identity:
        return SANDBOX_LOGIN

    def list_accounts(self) -> list[RemoteAccount]:
        return list(SANDBOX_ACCOUNTS)

    def updated_credentials(self) -> dict[str, Any] | None:
        return None

    def fetch_report(self, request: ReportRequest) -> Iterator[ReportRow]:
        account = request.account
        _known(account)
        wanted = set(request.dimensions)
        day = request.date_from
        while day <= request.date_to:
            yield from self._rows_of_day(account, day, wanted)
            day += timedelta(days=1)

    def _pull_day(self, account: RemoteAccount) -> date:
        """The day of the pull in the account's zone."""
        try:
            zone = ZoneInfo(account.time_zone or "UTC")
        except (KeyError, ValueError):
            zone = ZoneInfo("UTC")
        return self._clock().astimezone(zone).date()

    def landing_pages(self, account: RemoteAccount,
                      entities: Sequence[str] = LANDING_PAGE_ENTITIES) -> Iterator[LandingPage]:
        """The account's ads, keywords and sitelinks, linking to the app's demo site: each
        account reaches a different slice of its pages, broken ones among them."""
        _known(account)
        wanted = set(entities)
        offset = [a.external_id for a in SANDBOX_ACCOUNTS].index(account.external_id) * 3
        number = 0

        def url(extra: str = "") -> str:
            path = LANDING_PATHS[(offset + number) % len(LANDING_PATHS)]
            return demo_url(self._base_url, path) + extra

        for campaign, ad_groups in _structure(account):
            campaign_id = _campaign_id(account, campaign)
            for ad_group in ad_groups:
                group_id = str(_rng("group", account.external_id, ad_group).randint(10**8, 10**9 - 1))
                where = {"campaign_id": campaign_id, "campaign": campaign,
                         "ad_group_id": group_id, "ad_group": ad_group}
                number += 1
                # Every seventh entity is paused: checked only when the job asks for paused ones.
                paused = number % 7 == 0
                entity = f"{group_id}1"
                if "ad" in wanted:
                    yield LandingPage(url(), "ad", entity, paused=paused, **where)
                if "ad_mobile" in wanted and number % 2:
                    yield LandingPage(url("?device=mobile"), "ad_mobile", entity, paused=paused,
                                      **where)
                if "keyword" in wanted:
                    for index in range(2):
                        yield LandingPage(url(), "keyword", f"{group_id}{index + 2}",
                                          paused=paused, **where)
            number += 1  # counted whatever is wanted: a page's URL never depends on the filter
            if "sitelink" in wanted:
                yield LandingPage(url(), "sitelink", f"{campaign_id}9", campaign_id=campaign_id,
                                  campaign=campaign)
        if "sitelink" in wanted and offset == 12:
            # A sitelink typed without its scheme, and with a space: reported as malformed.
            yield LandingPage("www.acme-pets.example/summer sale", "sitelink", "77001")

    def _rows_of_day(self, account: RemoteAccount, day: date, wanted: set[str]) -> Iterator[ReportRow]:
        groups: dict[tuple[Any, ...], list[Any]] = {}
        age: int | None = None
        stopped = ""
        if account.external_id == ALERTS_ACCOUNT:
            age = (self._pull_day(account) - day).days
            if 0 < age <= STOPPED_DAYS:
                stopped = _structure(account)[0][0]
            age = age if age <= LATE_DAYS else None
        for campaign, ad_groups in _structure(account):
            for ad_group in ad_groups:
                for keyword in KEYWORDS[:3]:
                    text = f"{keyword} {ad_group.split(' — ')[0].lower()}"
                    totals = _day_totals(account, day, campaign, ad_group, text, age)
                    if campaign == stopped:
                        totals = (0, 0, Decimal("0"), Decimal("0"), Decimal("0"))
                    for device, share in zip(DEVICES, DEVICE_SHARE, strict=True):
                        key = (
                            day if "date" in wanted else None,
                            campaign if {"campaign", "ad_group", "keyword"} & wanted else None,
                            ad_group if {"ad_group", "keyword"} & wanted else None,
                            text if "keyword" in wanted else None,
                            device if "device" in wanted else None,
                        )
                        part = _device_part(totals, share, "device" in wanted)
                        if part is None:
                            continue
                        sums = groups.setdefault(key, [0, 0, Decimal(0), Decimal(0), Decimal(0)])
                        for i, amount in enumerate(part):
                            sums[i] += amount
        for key, sums in groups.items():
            yield ReportRow(
                date=key[0], campaign=key[1], ad_group=key[2], keyword=key[3], device=key[4],
                campaign_id=_campaign_id(account, key[1]) if key[1] else None,
                impressions=sums[0], clicks=sums[1], cost=sums[2], conversions=sums[3],
                conversion_value=sums[4],
            )


def _known(account: RemoteAccount) -> None:
    if account.external_id not in {a.external_id for a in SANDBOX_ACCOUNTS}:
        raise BadRequestError(f"The Sandbox has no account {account.external_id}.")


def _device_part(totals: tuple[int, int, Decimal, Decimal, Decimal], share: float,
                 by_device: bool) -> tuple[int, int, Decimal, Decimal, Decimal] | None:
    """The device's share of a keyword's day; without the device dimension, desktop carries all."""
    if not by_device:
        return totals if share == DEVICE_SHARE[0] else None
    ratio = Decimal(str(share))
    impressions, clicks, cost, conversions, value = totals
    return (int(impressions * share), int(clicks * share),
            (cost * ratio).quantize(Decimal("0.01")), conversions * ratio,
            (value * ratio).quantize(Decimal("0.01")))
