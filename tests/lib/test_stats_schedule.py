"""The store's dates: each account's yesterday, its next refresh across DST, the backfill's chunks."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ppc_robot.lib.stats.schedule import (
    add_months,
    backfill_range,
    chunks_left,
    local_yesterday,
    next_chunk,
    next_refresh_after,
    repull_range,
    retry_delay,
)


def test_yesterday_is_the_accounts_own():
    now = datetime(2026, 8, 4, 23, 30, tzinfo=UTC)  # already 5 August in Prague

    assert local_yesterday("Europe/Prague", now) == date(2026, 8, 4)
    assert local_yesterday("America/Los_Angeles", now) == date(2026, 8, 3)
    assert repull_range("Europe/Prague", now, 7) == (date(2026, 7, 29), date(2026, 8, 4))


@pytest.mark.parametrize(("now", "expected"), [
    # Summer time (UTC+2): 03:00 in Prague is 01:00 UTC.
    (datetime(2026, 8, 5, 0, 59, tzinfo=UTC), datetime(2026, 8, 5, 1, 0, tzinfo=UTC)),
    (datetime(2026, 8, 5, 1, 0, tzinfo=UTC), datetime(2026, 8, 6, 1, 0, tzinfo=UTC)),
    # The night the clocks go back (25 October): still 03:00 local, now UTC+1.
    (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),
    # The night they go forward (29 March): 03:00 local is UTC+2 again.
    (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
])
def test_the_next_refresh_is_three_hours_after_the_accounts_midnight(now, expected):
    assert next_refresh_after("Europe/Prague", now, 3) == expected


def test_an_unknown_time_zone_counts_as_utc():
    now = datetime(2026, 8, 5, 12, 0, tzinfo=UTC)

    assert next_refresh_after("Mars/Olympus", now, 3) == datetime(2026, 8, 6, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2024, 3, 31), -1, date(2024, 2, 29)),
    (date(2026, 1, 15), -13, date(2024, 12, 15)),
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
])
def test_months_move_and_clamp(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2026, 3, 1), date(2026, 8, 31),
                                   date(2026, 12, 31), date(2024, 2, 29)])
def test_thirteen_months_take_five_requests_without_gaps_or_overlaps(today):
    now = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    first, until = backfill_range("UTC", now, 13)
    done = None
    covered = []
    while (chunk := next_chunk(first, until, done, 3)) is not None:
        covered.append(chunk)
        done = chunk[0]

    assert chunks_left(first, until, None, 3) == len(covered) == 5
    assert covered[0][1] == until and covered[-1][0] == first == add_months(until, -13).replace(day=1)
    assert all((later[0] - earlier[1]).days == 1 or (earlier[0] - later[1]).days == 1
               for later, earlier in zip(covered, covered[1:], strict=False))


def test_retries_double_up_to_the_cap():
    assert [retry_delay(n, 300, 3600).total_seconds() for n in (1, 2, 3, 4, 5)] == [
        300, 600, 1200, 2400, 3600]
