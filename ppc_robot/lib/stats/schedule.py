"""Dates of the store: each account's own yesterday, its next refresh, the backfill's chunks.

Pure functions of an account's time zone and `now`, so the tests set the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_of(name: str | None) -> ZoneInfo:
    """The account's time zone; an unknown name counts as UTC rather than stopping the store."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_yesterday(time_zone: str | None, now: datetime) -> date:
    """The last whole day in the account's time zone."""
    return now.astimezone(zone_of(time_zone)).date() - timedelta(days=1)


def repull_range(time_zone: str | None, now: datetime, days: int) -> tuple[date, date]:
    """The days a daily refresh pulls again: the last `days` whole days."""
    last = local_yesterday(time_zone, now)
    return last - timedelta(days=days - 1), last


def next_refresh_after(time_zone: str | None, now: datetime, settle_hours: float) -> datetime:
    """The first moment after `now` that is an account's midnight plus the settle delay (UTC).

    Wall-clock arithmetic in the account's zone: on a DST day the refresh still comes
    `settle_hours` after the local midnight, as the platform's day ends there.
    """
    zone = zone_of(time_zone)
    today = now.astimezone(zone).date()
    for day in (today, today + timedelta(days=1)):
        moment = datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=settle_hours)
        if moment.astimezone(UTC) > now:
            return moment.astimezone(UTC)
    return (datetime.combine(today + timedelta(days=2), time(0), tzinfo=zone)
            + timedelta(hours=settle_hours)).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def backfill_range(time_zone: str | None, now: datetime, months: int) -> tuple[date, date]:
    """The history a new account gets: from the first of the month `months` back, to yesterday."""
    until = local_yesterday(time_zone, now)
    return add_months(until, -months).replace(day=1), until


def next_chunk(backfill_from: date, backfill_until: date, done_from: date | None,
               months: int) -> tuple[date, date] | None:
    """The next range the backfill pulls, walking back from the newest days; None when done."""
    last = done_from - timedelta(days=1) if done_from is not None else backfill_until
    if last < backfill_from:
        return None
    first = max(backfill_from, add_months(last + timedelta(days=1), -months))
    return first, last


def chunks_left(backfill_from: date, backfill_until: date, done_from: date | None,
                months: int) -> int:
    """How many requests the rest of the backfill takes."""
    count = 0
    while (chunk := next_chunk(backfill_from, backfill_until, done_from, months)) is not None:
        done_from = chunk[0]
        count += 1
    return count


def retry_delay(attempts: int, first_seconds: float, max_seconds: float) -> timedelta:
    """The wait after the `attempts`-th failure in a row: doubling from `first_seconds`."""
    return timedelta(seconds=min(first_seconds * 2 ** max(attempts - 1, 0), max_seconds))
