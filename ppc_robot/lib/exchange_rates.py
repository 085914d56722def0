"""The European Central Bank's euro reference rates: fetched into robot_exchange_rates by the
worker's housekeeping, and read by runs that report in one currency.

The ECB publishes, each TARGET working day at about 16:00 CET, how many units of some 30
currencies one euro buys (gesmes XML: `Cube time="…"` holding `Cube currency="…" rate="…"`).
There is no rate on weekends and TARGET holidays (1 January, Good Friday, Easter Monday,
1 May, 25 and 26 December); as the ECB itself advises, such a day takes the last rate
published before it. Any other pair is a cross rate through the euro:
amount × rate(target) / rate(source), in exact Decimal arithmetic, rounded only at output.

Feeds (under PPC_ROBOT_ECB_URL): eurofxref-daily.xml (the latest day), eurofxref-hist-90d.xml
(the last 90 days) and eurofxref-hist.xml (everything since 1999). The XML comes from the
network: a document type declaration (entities) is refused before parsing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import String, cast, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import ExchangeRate, JobDefinition, utcnow

logger = logging.getLogger(__name__)

ECB_URL = "https://www.ecb.europa.eu/stats/eurofxref"
DAILY, LAST_90_DAYS, HISTORY = "eurofxref-daily.xml", "eurofxref-hist-90d.xml", "eurofxref-hist.xml"
BASE = "EUR"
FRANKFURT = ZoneInfo("Europe/Berlin")
# A run's log line (stored in English, shown in the reader's language).
CONVERTED_LOG = N_("money converted to %(currency)s at the ECB's reference rates")
# A day's rates are out by about 16:00 CET; a fetch after 17:00 has seen that day for sure.
PUBLISHED_BY_HOURS = 17
# The longest run of days without a rate (Good Friday to Easter Monday, Christmas and a
# weekend) is five days: a fortnight back always finds the last published rate.
LOOKBACK_DAYS = 14
# The currencies the ECB publishes reference rates for (and the euro).
ECB_CURRENCIES = ("EUR", "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "GBP", "HKD", "HUF",
                  "IDR", "ILS", "INR", "ISK", "JPY", "KRW", "MXN", "MYR", "NOK", "NZD", "PHP",
                  "PLN", "RON", "SEK", "SGD", "THB", "TRY", "USD", "ZAR")
# The choices of a report's "Reporting currency" parameter ("": each account's own).
REPORTING_CURRENCIES = [("", "Each account's own currency")] + [(c, c) for c in sorted(ECB_CURRENCIES)]
_CUBE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}Cube"


class ExchangeRateError(PpcRobotError):
    """A rate a run needs is not known (the message names the currency and the day)."""


class EcbFeedError(Exception):
    """The ECB feed could not be read or parsed."""


@dataclass(frozen=True)
class EcbSettings:
    url: str = ECB_URL
    timeout_seconds: float = 30.0
    refresh_seconds: float = 3600.0  # the housekeeping asks the ECB at most this often

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EcbSettings:
        return cls(url=str(config.get("PPC_ROBOT_ECB_URL") or ECB_URL).rstrip("/"),
                   timeout_seconds=float(config.get("PPC_ROBOT_ECB_TIMEOUT_SECONDS") or 30),
                   refresh_seconds=float(config.get("PPC_ROBOT_ECB_REFRESH_SECONDS") or 3600))


def parse_ecb_xml(data: bytes) -> dict[date, dict[str, Decimal]]:
    """The rates of an ECB feed by day and currency (units per euro).

    Raises EcbFeedError for a document that is not such a feed, or declares a document type.
    """
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise EcbFeedError("The ECB feed declares a document type; refused.")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise EcbFeedError(f"The ECB feed is not valid XML ({exc}).") from exc
    rates: dict[date, dict[str, Decimal]] = {}
    for day_cube in root.iter(_CUBE):
        when = day_cube.get("time")
        if when is None:
            continue
        try:
            day = date.fromisoformat(when)
            rates[day] = {cube.get("currency", "").upper(): Decimal(cube.get("rate", ""))
                          for cube in day_cube.iter(_CUBE) if cube.get("currency")}
        except (ValueError, InvalidOperation) as exc:
            raise EcbFeedError(f"The ECB feed has a malformed rate on {when} ({exc}).") from exc
    if not rates:
        raise EcbFeedError("The ECB feed holds no rates.")
    return rates


def fetch_ecb(settings: EcbSettings, feed: str) -> dict[date, dict[str, Decimal]]:
    """One of the ECB's feeds, parsed. Raises EcbFeedError."""
    try:
        response = httpx.get(f"{settings.url}/{feed}", timeout=settings.timeout_seconds,
                             follow_redirects=False)
    except httpx.HTTPError as exc:
        raise EcbFeedError(f"The ECB could not be reached ({type(exc).__name__}).") from exc
    if response.status_code != 200:
        raise EcbFeedError(f"The ECB answered {response.status_code} for {feed}.")
    return parse_ecb_xml(response.content)


def store_rates(session: Session, rates: Mapping[date, Mapping[str, Decimal]], now: datetime) -> int:
    """Add the rates the table lacks (correcting any that changed) and mark the feed's latest
    day as read at `now`; returns the number of rows added or changed."""
    if not rates:
        return 0
    first, last = min(rates), max(rates)
    stored = {(day, currency): rate for day, currency, rate in session.execute(
        select(ExchangeRate.day, ExchangeRate.currency, ExchangeRate.rate).where(
            ExchangeRate.day.between(first, last)))}
    new = []
    changed = 0
    for day, by_currency in rates.items():
        for currency, rate in by_currency.items():
            known = stored.get((day, currency))
            if known is None:
                new.append({"day": day, "currency": currency, "rate": rate, "fetched_at": now})
            elif Decimal(known) != rate:
                session.execute(update(ExchangeRate).where(
                    ExchangeRate.day == day, ExchangeRate.currency == currency).values(
                    rate=rate, fetched_at=now))
                changed += 1
    for start in range(0, len(new), 5000):
        session.execute(insert(ExchangeRate), new[start:start + 5000])
    # The latest day's rows say when the ECB was last read (weekends add no rows).
    session.execute(update(ExchangeRate).where(ExchangeRate.day == last).values(fetched_at=now))
    session.flush()
    return len(new) + changed


def _known_through(latest_day: date | None, last_read: datetime | None) -> date | None:
    """The last day whose rates (or their absence) the table knows for certain."""
    if latest_day is None or last_read is None:
        return latest_day
    seen = (last_read.astimezone(FRANKFURT) - timedelta(hours=PUBLISHED_BY_HOURS)).date()
    return max(latest_day, seen)


def update_exchange_rates(session: Session, settings: EcbSettings, now: datetime, *,
                          force: bool = False) -> int:
    """Fetch what the table lacks: the whole history when empty, the last 90 days when it is
    behind by days, else the daily feed; not more often than `refresh_seconds` unless `force`.
    Returns the rows added. Raises EcbFeedError."""
    latest_day, last_read = session.execute(
        select(func.max(ExchangeRate.day), func.max(ExchangeRate.fetched_at))).one()
    if latest_day is None:
        feed = HISTORY
    else:
        today = now.astimezone(FRANKFURT).date()
        known = _known_through(latest_day, _aware(last_read))
        if known is not None and known >= today:
            return 0
        if not force and last_read is not None and (
                now - _aware(last_read)).total_seconds() < settings.refresh_seconds:
            return 0
        # The daily feed has one day: enough while at most one working day can be missing.
        weekdays = sum(1 for n in range(1, (today - latest_day).days + 1)
                       if (latest_day + timedelta(days=n)).weekday() < 5)
        feed = DAILY if weekdays <= 1 else LAST_90_DAYS
    added = store_rates(session, fetch_ecb(settings, feed), now)
    logger.info("ECB rates: %s rows from %s", added, feed)
    return added


def _aware(value: datetime | None) -> datetime:
    assert value is not None
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo("UTC"))


def rates_wanted(session: Session) -> bool:
    """Whether any job reports in one currency: only then does the housekeeping ask the ECB
    (an installation that never converts never calls it; a first run fetches for itself)."""
    stored = cast(JobDefinition.parameters, String)  # parameters are JSON written by json.dumps
    return session.scalar(select(JobDefinition.id).where(
        stored.like('%"reporting_currency": "%'),
        stored.not_like('%"reporting_currency": ""%')).limit(1)) is not None


_last_failure: list[float] = []  # when this process last failed to read the ECB (monotonic)


def refresh_exchange_rates(factory: sessionmaker[Session], config: Mapping[str, Any],
                           now: datetime | None = None) -> int:
    """The housekeeping's step: bring the rates up to date while some job reports in one
    currency (its own session and commit); returns the rows added."""
    settings = EcbSettings.from_config(config)
    if _last_failure and time.monotonic() - _last_failure[-1] < settings.refresh_seconds:
        return 0  # the ECB failed recently: not again at every housekeeping
    with factory() as session:
        if not rates_wanted(session):
            return 0
        try:
            added = update_exchange_rates(session, settings, now or utcnow())
        except EcbFeedError as exc:
            _last_failure[:] = [time.monotonic()]
            logger.warning("ECB rates not updated: %s", exc)
            return 0
        session.commit()
    _last_failure.clear()
    return added


class RateTable:
    """Rates of some currencies over some days, read once; `factor` converts a day's amount."""

    def __init__(self, rates: Mapping[str, list[tuple[date, Decimal]]], known_through: date | None,
                 target: str) -> None:
        self._rates = {currency: sorted(days) for currency, days in rates.items()}
        self._known_through = known_through
        self.target = target
        self._cache: dict[tuple[date, str], Decimal] = {}

    def rate(self, day: date, currency: str) -> Decimal:
        """Units of `currency` per euro on `day`: that day's rate, else the last published
        before it. Raises ExchangeRateError when the table does not know it."""
        if currency == BASE:
            return Decimal(1)
        found = None
        if self._known_through is not None and day <= self._known_through:
            for published, rate in reversed(self._rates.get(currency, [])):
                if published <= day:
                    if (day - published).days <= LOOKBACK_DAYS:
                        found = rate
                    break
        if found is None:
            raise ExchangeRateError(f"No ECB rate for {currency} on {day.isoformat()}; the European "
                                    "Central Bank publishes none for it, or not yet.")
        return found

    def factor(self, day: date, currency: str) -> Decimal:
        """What one unit of `currency` is worth in the target currency on `day` (via the euro)."""
        key = (day, currency)
        if key not in self._cache:
            self._cache[key] = (Decimal(1) if currency == self.target
                                else self.rate(day, self.target) / self.rate(day, currency))
        return self._cache[key]

    def convert(self, amount: Decimal, day: date, currency: str) -> Decimal:
        return amount * self.factor(day, currency)

    def check(self, days: Iterable[date], currencies: Iterable[str]) -> None:
        """Raises ExchangeRateError for the first day and currency without a rate."""
        for currency in sorted(set(currencies) | {self.target}):
            for day in days:
                self.rate(day, currency)


def read_rates(session: Session, currencies: Iterable[str], first: date, last: date,
               target: str) -> RateTable:
    """The stored rates that converting `currencies` to `target` from `first` to `last` needs."""
    wanted = sorted(set(currencies) | {target})
    rates: dict[str, list[tuple[date, Decimal]]] = {}
    for day, currency, rate in session.execute(select(
            ExchangeRate.day, ExchangeRate.currency, ExchangeRate.rate).where(
            ExchangeRate.currency.in_(wanted),
            ExchangeRate.day.between(first - timedelta(days=LOOKBACK_DAYS), last))):
        rates.setdefault(currency, []).append((day, Decimal(rate)))
    latest_day, last_read = session.execute(
        select(func.max(ExchangeRate.day), func.max(ExchangeRate.fetched_at))).one()
    read_at = _aware(last_read) if last_read is not None else None
    known = _known_through(latest_day, read_at)
    if read_at is not None and known is not None:
        # Read today: today's rate, not out yet, is the last one published (as the ECB advises).
        known = max(known, read_at.astimezone(FRANKFURT).date())
    return RateTable(rates, known, target)


def rates_for_run(factory: sessionmaker[Session], config: Mapping[str, Any],
                  currencies: Iterable[str], days: list[date], target: str, *,
                  now: datetime | None = None) -> RateTable:
    """The rates a run converting `currencies` to `target` on `days` needs; when some are
    missing, the ECB is asked once before giving up.

    Raises ExchangeRateError naming the first currency and day without a rate.
    """
    currencies = set(currencies)
    first, last = min(days), max(days)
    with factory() as session:
        table = read_rates(session, currencies, first, last, target)
    try:
        table.check(days, currencies)
        return table
    except ExchangeRateError:
        pass
    try:
        with factory() as session:
            update_exchange_rates(session, EcbSettings.from_config(config), now or utcnow(), force=True)
            session.commit()
    except EcbFeedError as exc:
        logger.warning("ECB rates could not be fetched for a run: %s", exc)
    except IntegrityError:
        logger.info("ECB rates stored meanwhile by another process")
    with factory() as session:
        table = read_rates(session, currencies, first, last, target)
    table.check(days, currencies)
    return table
