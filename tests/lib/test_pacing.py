"""Budget pacing and targets: month windows through yesterday, forecasts, green/amber/red."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ppc_robot.lib.pacing import (
    PacingStatus,
    Signal,
    budget_pacing,
    cpa,
    cpa_signal,
    local_today,
    money_from_micros,
    month_window,
    pno,
    pno_signal,
    roas,
    roas_signal,
)

D = Decimal
TEN = D(10)


def test_micros_become_exact_decimals():
    assert money_from_micros(12_345_678) == D("12.345678")
    assert money_from_micros(0) == 0 and money_from_micros(None) == 0
    assert money_from_micros(1) == D("0.000001")


@pytest.mark.parametrize(("today", "through", "days", "elapsed", "rate_start"), [
    (date(2026, 3, 2), date(2026, 3, 1), 31, 1, date(2026, 2, 23)),     # the month's first day
    (date(2026, 3, 1), date(2026, 2, 28), 28, 28, date(2026, 2, 22)),   # February, complete
    (date(2024, 3, 1), date(2024, 2, 29), 29, 29, date(2024, 2, 23)),   # leap February
    (date(2026, 2, 15), date(2026, 2, 14), 28, 14, date(2026, 2, 8)),
    (date(2026, 1, 31), date(2026, 1, 30), 31, 30, date(2026, 1, 24)),
    (date(2026, 2, 1), date(2026, 1, 31), 31, 31, date(2026, 1, 25)),   # the month's last day
    (date(2026, 1, 1), date(2025, 12, 31), 31, 31, date(2025, 12, 25)),  # across the year
    (date(2026, 3, 30), date(2026, 3, 29), 31, 29, date(2026, 3, 23)),  # DST starts in Europe
    (date(2026, 10, 26), date(2026, 10, 25), 31, 25, date(2026, 10, 19)),  # DST ends
])
def test_the_month_runs_through_yesterday(today, through, days, elapsed, rate_start):
    window = month_window(today)

    assert (window.through, window.days_in_month, window.days_elapsed) == (through, days, elapsed)
    assert window.month_start == through.replace(day=1)
    assert window.run_rate_start == rate_start
    assert window.days_remaining == days - elapsed


@pytest.mark.parametrize(("now", "zone", "today"), [
    # Half past midnight in Prague is still the previous day in UTC, in winter and in summer.
    (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "Europe/Prague", date(2026, 3, 29)),
    (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), "Europe/Prague", date(2026, 3, 30)),
    (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), "Europe/Prague", date(2026, 10, 25)),
    (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), "Europe/Prague", date(2026, 10, 26)),
    (datetime(2026, 3, 8, 6, 30, tzinfo=UTC), "America/New_York", date(2026, 3, 8)),
    (datetime(2026, 3, 8, 3, 30, tzinfo=UTC), "America/New_York", date(2026, 3, 7)),
])
def test_today_is_the_viewers_calendar_date(now, zone, today):
    assert local_today(now, ZoneInfo(zone)) == today


def test_a_day_of_dst_change_counts_as_one_day():
    spring = month_window(date(2026, 3, 30))  # through the 23-hour 29 March
    autumn = month_window(date(2026, 10, 26))  # through the 25-hour 25 October

    spring_pacing = budget_pacing(D(2900), D(700), D(3100), TEN, spring)
    autumn_pacing = budget_pacing(D(2500), D(700), D(3100), TEN, autumn)

    assert spring_pacing.expected == D(2900) and spring_pacing.percent == 100
    assert autumn_pacing.expected == D(2500) and autumn_pacing.percent == 100


def test_on_pace_in_the_middle_of_march():
    window = month_window(date(2026, 3, 11))  # through 10 March: 10 of 31 days

    pacing = budget_pacing(D(1000), D(700), D(3100), TEN, window)

    assert pacing.expected == D(1000)
    assert pacing.percent == D(100)
    assert (pacing.status, pacing.signal) == (PacingStatus.ON_TRACK, Signal.GREEN)
    assert pacing.forecast == D(1000) + D(100) * 21  # 700 / 7 a day for the 21 days left
    assert pacing.spent_share == D(1000) * 100 / D(3100)
    assert pacing.expected_share == D(1000) / D(31)


@pytest.mark.parametrize(("spend", "status", "signal"), [
    (D(1100), PacingStatus.ON_TRACK, Signal.GREEN),   # exactly the tolerance
    (D(900), PacingStatus.ON_TRACK, Signal.GREEN),
    (D(1150), PacingStatus.OVER, Signal.AMBER),       # 115 %: past 10 %, within 20 %
    (D(850), PacingStatus.UNDER, Signal.AMBER),
    (D(1200), PacingStatus.OVER, Signal.AMBER),
    (D(1250), PacingStatus.OVER, Signal.RED),
    (D(0), PacingStatus.UNDER, Signal.RED),
])
def test_over_and_under_by_the_clients_tolerance(spend, status, signal):
    window = month_window(date(2026, 3, 11))

    pacing = budget_pacing(spend, D(0), D(3100), TEN, window)

    assert (pacing.status, pacing.signal) == (status, signal)


def test_a_wider_tolerance_keeps_it_on_track():
    pacing = budget_pacing(D(1250), D(0), D(3100), D(30), month_window(date(2026, 3, 11)))

    assert pacing.status == PacingStatus.ON_TRACK


def test_february_pro_rates_by_28_days():
    pacing = budget_pacing(D(1400), D(700), D(2800), TEN, month_window(date(2026, 2, 15)))

    assert pacing.expected == D(1400) and pacing.percent == 100
    assert pacing.forecast == D(1400) + D(100) * 14


def test_on_the_first_the_previous_month_is_complete():
    window = month_window(date(2026, 4, 1))  # through 31 March

    pacing = budget_pacing(D(3400), D(770), D(3100), TEN, window)

    assert pacing.expected == D(3100)
    assert pacing.forecast == D(3400)  # no days left: the forecast is what was spent
    assert pacing.expected_share == 100
    assert (pacing.status, pacing.signal) == (PacingStatus.ON_TRACK, Signal.GREEN)  # 109.7 %


def test_on_the_second_one_day_is_expected():
    pacing = budget_pacing(D(50), D(350), D(3100), TEN, month_window(date(2026, 3, 2)))

    assert pacing.expected == D(100)
    assert pacing.percent == D(50)
    assert pacing.forecast == D(50) + D(50) * 30
    assert (pacing.status, pacing.signal) == (PacingStatus.UNDER, Signal.RED)


@pytest.mark.parametrize("budget", [None, D(0)])
def test_a_client_without_a_budget_has_no_percentage(budget):
    pacing = budget_pacing(D(1000), D(700), budget, TEN, month_window(date(2026, 3, 11)))

    assert pacing.status == PacingStatus.NO_BUDGET and pacing.status.label == "no budget"
    assert pacing.percent is None and pacing.spent_share is None and pacing.expected is None
    assert pacing.signal == Signal.NONE
    assert pacing.forecast == D(3100)


def test_ratios():
    assert cpa(D(1000), D(10)) == D(100) and cpa(D(1000), D(0)) is None
    assert roas(D(1000), D(4000)) == D(4) and roas(D(0), D(4000)) is None
    assert pno(D(150), D(1000)) == D("0.15") and pno(D(150), D(0)) is None


@pytest.mark.parametrize(("target", "signal"), [
    (D(100), Signal.GREEN), (D(120), Signal.GREEN), (D(95), Signal.AMBER), (D(90), Signal.RED),
    (None, Signal.NONE)])
def test_cpa_against_its_target(target, signal):
    assert cpa_signal(D(1000), D(10), target, TEN) == signal  # CPA 100


def test_cpa_without_conversions():
    assert cpa_signal(D(500), D(0), D(100), TEN) == Signal.RED
    assert cpa_signal(D(0), D(0), D(100), TEN) == Signal.NONE


@pytest.mark.parametrize(("target", "signal"), [
    (D(4), Signal.GREEN), (D(3), Signal.GREEN), (D("4.4"), Signal.AMBER), (D(5), Signal.RED),
    (None, Signal.NONE)])
def test_roas_against_its_target(target, signal):
    assert roas_signal(D(1000), D(4000), target, TEN) == signal  # ROAS 4


def test_roas_without_cost_has_no_colour():
    assert roas_signal(D(0), D(4000), D(4), TEN) == Signal.NONE
    assert roas_signal(D(1000), D(0), D(4), TEN) == Signal.RED  # ROAS 0


@pytest.mark.parametrize(("target", "signal"), [
    (D("0.15"), Signal.GREEN), (D("0.2"), Signal.GREEN), (D("0.14"), Signal.AMBER),
    (D("0.13"), Signal.RED), (None, Signal.NONE)])
def test_pno_against_its_target(target, signal):
    assert pno_signal(D(150), D(1000), target, TEN) == signal  # PNO 0.15


def test_pno_without_conversion_value():
    assert pno_signal(D(150), D(0), D("0.15"), TEN) == Signal.RED
