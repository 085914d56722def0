"""Quota-aware calls: one limiter per login, its counters in the database.

Every process (web syncs, worker runs) counts the same rows, so concurrent runs on one login
share its budget. The platforms' documented limits, as defaults (PPC_ROBOT_QUOTA_<PLATFORM>_
<PERIOD> overrides them):

- Google Ads: a Basic-access developer token may make 15,000 operations a day (each
  searchStream or listAccessibleCustomers call counts one); we keep 14,000 for ourselves.
- Sklik (Drak): limits per minute and per day come from `api.limits`; the documented defaults
  are not published, so we stay conservative: 300 calls a minute and 50,000 a day.
- Microsoft Advertising: services throttle per user in a sliding 60-second window (error 117
  CallRateExceeded); we allow 600 calls a minute.
- Sandbox: no limits.

A call over a per-minute limit raises RateLimitedError with the seconds until the next
minute (the adapter's retry waits if that is short); over a daily limit it raises
QuotaExhaustedError "quota exhausted, next attempt at …" and nothing is sent.

A caller that knows how many calls it is about to make (a run: one report per account and
period) says so with `plan()`: the limiter then counts that many in one database write and
hands the slots out to its threads without further round trips, and `release()` gives back
those not used. With `plan(calls, whole=True)` (a listing that is worth nothing half done) the
day's slots are taken all at once or not at all: the first call then raises
QuotaExhaustedError before anything is sent, and the run waits for the next day like any other. The counters never show fewer calls than were made; between the two (or after
a crash, until the period ends) they show more.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, case, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ppc_robot.lib.models import Platform, PlatformQuota, UtcDateTime, utcnow
from ppc_robot.lib.platforms.base import QuotaExhaustedError, RateLimitedError, TemporaryError

PERIODS = {"minute": timedelta(minutes=1), "day": timedelta(days=1)}
DEFAULT_LIMITS: dict[Platform, dict[str, int]] = {
    Platform.GOOGLE_ADS: {"day": 14_000},
    Platform.SKLIK: {"minute": 300, "day": 50_000},
    Platform.MICROSOFT: {"minute": 600},
    Platform.SANDBOX: {},
}


def quota_key(platform: Platform, period: str) -> str:
    return f"PPC_ROBOT_QUOTA_{platform.value.upper()}_{period.upper()}"


def limits_for(platform: Platform, config: Mapping[str, object] | None = None) -> dict[str, int]:
    """The platform's limits, with PPC_ROBOT_QUOTA_<PLATFORM>_<PERIOD> overrides."""
    limits = dict(DEFAULT_LIMITS[platform])
    for period in PERIODS:
        key = quota_key(platform, period)
        raw = (config or {}).get(key, os.environ.get(key))
        if raw not in (None, ""):
            limits[period] = int(str(raw))
    return limits


def _period_start(now: datetime, period: str) -> datetime:
    if period == "day":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    return now.replace(second=0, microsecond=0)


def limiter_for(session: Session, service_account_id: int, limits: Mapping[str, int],
                *, platform_label: str) -> QuotaLimiter:
    """The limiter of a login for code working in `session`.

    On PostgreSQL the counters commit on their own connection at once, so other processes
    see them while a run goes on. SQLite has one writer at a time: a second connection would
    wait for the caller's own uncommitted writes, so there the counters ride in the caller's
    transaction (other processes queue behind that writer anyway).
    """
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        return QuotaLimiter(session, service_account_id, limits, platform_label=platform_label)
    assert isinstance(bind, Engine)
    return QuotaLimiter(bind, service_account_id, limits, platform_label=platform_label)


class QuotaLimiter:
    """Counts one login's calls; `acquire()` before each call refuses one over a limit."""

    def __init__(self, store: Engine | Session, service_account_id: int,
                 limits: Mapping[str, int], *, platform_label: str = "The platform",
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._service_account_id = service_account_id
        # The minute first: a call refused for the minute (and retried) must not use up a
        # slot of the day; a call refused for the day only keeps a slot of this minute.
        self._limits = sorted(limits.items(), key=lambda item: item[0] != "minute")
        self._label = platform_label
        self._clock = clock
        # Slots counted in the database and not used yet: period → (its start, how many).
        self._held: dict[str, tuple[datetime, int]] = {}
        self._planned = 0
        self._whole = False
        self._lock = threading.Lock()  # one limiter serves all the threads of a run

    def plan(self, calls: int, *, whole: bool = False) -> None:
        """Announce `calls` more calls: the next count takes slots for all of them at once.
        `whole`: the day's slots for all of them or none (when they fit in the day at all)."""
        with self._lock:
            self._planned += max(calls, 0)
            self._whole = self._whole or (whole and calls > 0)

    def acquire(self) -> None:
        """Count one call, or raise RateLimitedError / QuotaExhaustedError without counting."""
        with self._lock:
            now = self._clock()
            for period, limit in self._limits:
                start = _period_start(now, period)
                held_start, held = self._held.pop(period, (start, 0))
                if held_start == start and held > 0:
                    self._held[period] = (start, held)
                    continue
                # Slots held for a period that has ended were counted there; they lapse.
                taken = self._take(period, start, limit, max(self._planned, 1),
                                   whole=self._whole and period == "day")
                if not taken:
                    next_attempt = start + PERIODS[period]
                    if period == "day":
                        raise QuotaExhaustedError(
                            f"{self._label} quota exhausted, next attempt at "
                            f"{next_attempt:%Y-%m-%d %H:%M} UTC.", next_attempt)
                    raise RateLimitedError(
                        f"{self._label} allows {limit} calls a {period} for this login.",
                        max((next_attempt - now).total_seconds(), 0.0))
                self._held[period] = (start, taken)
            for period, (start, held) in self._held.items():
                self._held[period] = (start, held - 1)
            self._planned = max(self._planned - 1, 0)

    def release(self) -> None:
        """Give back the slots counted ahead and not used; the plan is over."""
        with self._lock:
            table = PlatformQuota.__table__
            for period, (start, held) in self._held.items():
                if held < 1:
                    continue
                with self._transaction() as connection:
                    connection.execute(update(table).where(
                        table.c.service_account_id == self._service_account_id,
                        table.c.period == period,
                        table.c.period_start == literal(start, UtcDateTime()),
                        table.c.used >= held,
                    ).values(used=table.c.used - held))
            self._held.clear()
            self._planned = 0
            self._whole = False

    def _take(self, period: str, start: datetime, limit: int, wanted: int, *,
              whole: bool = False) -> int:
        """Count `wanted` calls, or failing that one; returns how many were counted (0: none).
        `whole`: all `wanted` or none, unless they exceed the limit itself (then as usual).

        Within a minute at most a tenth of the limit is taken at once: slots a run cannot use
        before the minute ends would only keep other processes waiting.
        """
        if limit < 1:
            return 0
        share = limit if period == "day" else max(limit // 10, 1)
        tries = (wanted,) if whole and wanted <= limit else (min(wanted, share), 1)
        for count in dict.fromkeys(tries):
            if self._take_exactly(period, start, limit, count):
                return count
        return 0

    def _take_exactly(self, period: str, start: datetime, limit: int, count: int) -> bool:
        """One atomic UPDATE: a new period starts over at `count`, else count up within limit."""
        table = PlatformQuota.__table__
        row = (table.c.service_account_id == self._service_account_id) & (table.c.period == period)
        is_new_period = table.c.period_start < start
        with self._transaction() as connection:
            changed = connection.execute(
                update(table).where(row, is_new_period | (table.c.used + count <= limit)).values(
                    used=case((is_new_period, count), else_=table.c.used + count),
                    period_start=case((is_new_period, literal(start, UtcDateTime())),
                                      else_=table.c.period_start),
                )
            ).rowcount
            if changed:
                return True
            exists = connection.scalar(select(table.c.id).where(row))
            if exists is not None:
                return False
        try:
            with self._transaction() as connection:
                connection.execute(insert(table).values(
                    service_account_id=self._service_account_id, period=period,
                    period_start=start, used=count))
            return True
        except IntegrityError:  # another process created the row first: count there
            return self._take_exactly(period, start, limit, count)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if isinstance(self._store, Session):
            with self._store.begin_nested():
                yield self._store.connection()
        else:
            try:
                with self._store.begin() as connection:
                    if connection.dialect.name == "postgresql":
                        # Never wait long for a counter row: a caller holding an uncommitted
                        # new login would otherwise wait on itself.
                        connection.execute(text("SET LOCAL lock_timeout = '5s'"))
                    yield connection
            except OperationalError as exc:
                raise TemporaryError("The API call counters are busy; try again.") from exc
