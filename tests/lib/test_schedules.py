from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppc_robot.lib.i18n import refusal_text
from ppc_robot.lib.models import ScheduleKind
from ppc_robot.lib.schedules import (
    JobSchedule,
    ScheduleError,
    describe_schedule,
    next_run_after,
    next_runs,
    normalise_schedule,
    preview_schedule,
)

PRAGUE = ZoneInfo("Europe/Prague")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def runs_on_local_day(schedule, day):
    """Every run whose local date (in the schedule's zone) is `day`."""
    start = datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    runs = next_runs(schedule, start, count=60)
    return [r for r in runs if r.astimezone(schedule.zone).date() == day]


@pytest.mark.parametrize(
    "day, expected_utc",
    [(date(2026, 3, 29), utc(2026, 3, 29, 1, 30)),    # spring forward: 02:30 does not exist
     (date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),  # fall back: 02:30 happens twice
     (date(2026, 3, 28), utc(2026, 3, 28, 1, 30)),
     (date(2026, 3, 30), utc(2026, 3, 30, 0, 30))],
)
def test_daily_0230_in_prague_runs_exactly_once_on_dst_days(day, expected_utc):
    schedule = JobSchedule(ScheduleKind.DAILY, {"time": "02:30"}, "Europe/Prague")

    runs = runs_on_local_day(schedule, day)

    assert runs == [expected_utc]


def test_the_spring_gap_time_runs_as_far_after_the_gap_as_it_asked():
    schedule = JobSchedule(ScheduleKind.DAILY, {"time": "02:30"}, "Europe/Prague")

    run = next_run_after(schedule, utc(2026, 3, 28, 12, 0))

    assert run.astimezone(PRAGUE).strftime("%H:%M %Z") == "03:30 CEST"


@pytest.mark.parametrize("day, count", [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25),
                                        (date(2026, 6, 1), 24)])
def test_hourly_counts_real_hours_on_dst_days(day, count):
    schedule = JobSchedule(ScheduleKind.HOURLY, {"minute": 15}, "Europe/Prague")

    runs = runs_on_local_day(schedule, day)

    assert len(runs) == count
    assert len(set(runs)) == count
    assert all(r.astimezone(PRAGUE).minute == 15 for r in runs)


def test_hourly_in_a_half_hour_zone_keeps_the_local_minute():
    schedule = JobSchedule(ScheduleKind.HOURLY, {"minute": 0}, "Asia/Kolkata")

    runs = next_runs(schedule, utc(2026, 1, 1, 10, 0), 3)

    assert [r.astimezone(ZoneInfo("Asia/Kolkata")).minute for r in runs] == [0, 0, 0]
    assert runs == [utc(2026, 1, 1, 10, 30), utc(2026, 1, 1, 11, 30), utc(2026, 1, 1, 12, 30)]


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_cron_in_wall_clock_time_fires_once_per_local_time_on_dst_days(day):
    schedule = JobSchedule(ScheduleKind.CRON, {"cron": "30 2 * * *"}, "Europe/Prague")

    runs = runs_on_local_day(schedule, day)

    assert len(runs) == 1


def test_cron_every_15_minutes_never_repeats_or_goes_back_across_dst():
    schedule = JobSchedule(ScheduleKind.CRON, {"cron": "*/15 * * * *"}, "Europe/Prague")

    for start in (utc(2026, 3, 28, 23, 0), utc(2026, 10, 24, 23, 0)):
        runs = next_runs(schedule, start, 20)
        assert runs == sorted(set(runs))


def test_weekly_and_monthly_next_runs():
    weekly = JobSchedule(ScheduleKind.WEEKLY, {"weekdays": [0, 4], "time": "08:00"}, "Europe/Prague")
    monthly = JobSchedule(ScheduleKind.MONTHLY, {"day": 31, "time": "06:00"}, "UTC")

    week = next_runs(weekly, utc(2026, 1, 1, 0, 0), 4)   # a Thursday
    months = next_runs(monthly, utc(2026, 1, 31, 6, 0), 3)

    assert [r.astimezone(PRAGUE).strftime("%a %H:%M") for r in week] == [
        "Fri 08:00", "Mon 08:00", "Fri 08:00", "Mon 08:00"]
    assert months == [utc(2026, 2, 28, 6), utc(2026, 3, 31, 6), utc(2026, 4, 30, 6)]


def test_manual_never_runs_and_naive_times_are_refused():
    manual = JobSchedule(ScheduleKind.MANUAL)

    assert next_run_after(manual, utc(2026, 1, 1)) is None
    assert next_runs(manual, utc(2026, 1, 1)) == []
    with pytest.raises(ValueError, match="aware"):
        next_run_after(JobSchedule(ScheduleKind.HOURLY, {"minute": 0}), datetime(2026, 1, 1))


def test_next_run_is_strictly_after_the_given_time():
    schedule = JobSchedule(ScheduleKind.DAILY, {"time": "07:00"}, "UTC")

    assert next_run_after(schedule, utc(2026, 5, 1, 7, 0)) == utc(2026, 5, 2, 7, 0)
    assert next_run_after(schedule, utc(2026, 5, 1, 6, 59)) == utc(2026, 5, 1, 7, 0)


@pytest.mark.parametrize(
    "kind, params, zone, field, message",
    [
        ("cron", {"cron": "61 * * * *"}, "UTC", "cron", "not a valid cron expression"),
        ("cron", {"cron": "* * * * * *"}, "UTC", "cron", "not a valid cron expression"),
        ("cron", {"cron": "0 0 30 2 *"}, "UTC", "cron", "never runs"),
        ("weekly", {"weekdays": [], "time": "08:00"}, "UTC", "weekdays", "at least one day"),
        ("daily", {"time": "02:30"}, "Europe/Prague", "time", "does not exist in Europe/Prague"),
        ("weekly", {"weekdays": [6], "time": "02:15"}, "Europe/Prague", "time", "clocks go forward"),
        ("daily", {"time": "25:00"}, "UTC", "time", "HH:MM"),
        ("monthly", {"day": 0, "time": "07:00"}, "UTC", "day", "from 1 to 31"),
        ("hourly", {"minute": 60}, "UTC", "minute", "from 0 to 59"),
        ("daily", {"time": "07:00"}, "Mars/Olympus", "time_zone", "time zone"),
        ("yearly", {}, "UTC", "kind", "how often"),
    ],
)
def test_bad_schedules_are_refused_with_the_field_at_fault(kind, params, zone, field, message):
    with pytest.raises(ScheduleError, match=message) as refused:
        normalise_schedule(kind, params, zone)

    assert refused.value.field == field


def test_a_gap_time_is_fine_on_days_the_clocks_do_not_change():
    schedule = normalise_schedule("weekly", {"weekdays": [0, 2], "time": "02:30", "cron": "x"},
                                  "Europe/Prague")

    assert schedule.params == {"weekdays": [0, 2], "time": "02:30"}


@pytest.mark.parametrize(
    "kind, params, words",
    [("manual", {}, "Manually"),
     ("hourly", {"minute": 5}, "Every hour at minute 05"),
     ("daily", {"time": "07:00"}, "Daily at 07:00 (Europe/Prague)"),
     ("weekly", {"weekdays": [0, 1, 2, 3, 4], "time": "08:00"}, "Weekly on weekdays at 08:00 (Europe/Prague)"),
     ("weekly", {"weekdays": [0, 2, 4], "time": "08:00"},
      "Weekly on Monday, Wednesday and Friday at 08:00 (Europe/Prague)"),
     ("monthly", {"day": 31, "time": "06:00"}, "Monthly on day 31 (or the month's last day) at 06:00 (Europe/Prague)"),
     ("cron", {"cron": "0 7 * * 1-5"}, "Cron “0 7 * * 1-5” (Europe/Prague)")],
)
def test_schedules_in_words(kind, params, words):
    assert describe_schedule(JobSchedule(ScheduleKind(kind), params, "Europe/Prague")) == words


ZONES = ["Europe/Prague", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC",
         "America/Santiago", "Pacific/Chatham"]


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31),
                       timezones=st.just(UTC)),
)
def test_daily_runs_increase_once_a_local_day_at_the_asked_time_or_just_after_a_gap(zone, hour, minute, start):
    schedule = JobSchedule(ScheduleKind.DAILY, {"time": f"{hour:02d}:{minute:02d}"}, zone)

    runs = next_runs(schedule, start, 10)

    assert len(runs) == 10 and runs[0] > start
    assert all(a < b for a, b in zip(runs, runs[1:], strict=False))
    local_days = [r.astimezone(ZoneInfo(zone)).date() for r in runs]
    assert len(set(local_days)) == 10
    for run in runs:
        local = run.astimezone(ZoneInfo(zone))
        asked = local.replace(hour=hour, minute=minute)
        # Either the asked wall time, or (inside a gap) a little later the same day.
        assert (local.hour, local.minute) == (hour, minute) or timedelta(0) < local - asked <= timedelta(hours=1)


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    expression=st.sampled_from(["*/15 * * * *", "0 */2 * * *", "30 2 * * *", "0 9 * * 1-5",
                                "5 0 1 * *", "0 0 29 2 *"]),
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31),
                       timezones=st.just(UTC)),
)
def test_cron_runs_always_move_forward(zone, expression, start):
    schedule = JobSchedule(ScheduleKind.CRON, {"cron": expression}, zone)

    runs = next_runs(schedule, start, 8)

    assert runs and runs[0] > start
    assert all(a < b for a, b in zip(runs, runs[1:], strict=False))


def test_preview_gives_words_and_five_runs_in_the_jobs_zone():
    schedule = JobSchedule(ScheduleKind.WEEKLY, {"weekdays": [0, 2], "time": "07:30"}, "Europe/Prague")

    preview = preview_schedule(schedule, "Europe/Prague", utc(2026, 3, 28, 12, 0))

    assert preview.words == "Weekly on Monday and Wednesday at 07:30 (Europe/Prague)"
    assert preview.runs == ["Mon 2026-03-30 07:30", "Wed 2026-04-01 07:30", "Mon 2026-04-06 07:30",
                            "Wed 2026-04-08 07:30", "Mon 2026-04-13 07:30"]


def test_preview_adds_the_viewers_own_time_and_day_when_his_zone_differs():
    schedule = JobSchedule(ScheduleKind.DAILY, {"time": "07:30"}, "Europe/Prague")

    ahead = preview_schedule(schedule, "Asia/Tokyo", utc(2026, 3, 28, 12, 0), count=1)
    behind = preview_schedule(schedule, "America/Los_Angeles", utc(2026, 3, 28, 12, 0), count=1)
    unknown = preview_schedule(schedule, "Mars/Olympus", utc(2026, 3, 28, 12, 0), count=1)

    assert ahead.runs == ["Sun 2026-03-29 07:30 (your time 14:30, Asia/Tokyo)"]
    assert behind.runs == ["Sun 2026-03-29 07:30 (your time Sat 22:30, America/Los_Angeles)"]
    assert unknown.runs == ["Sun 2026-03-29 07:30 (your time 05:30, UTC)"]


def test_a_manual_schedule_previews_without_runs():
    preview = preview_schedule(JobSchedule(ScheduleKind.MANUAL), "UTC", utc(2026, 3, 28))

    assert (preview.words, preview.runs) == ("Manually", [])


@pytest.mark.parametrize(
    "kind, params, words",
    [("manual", {}, "Ručně"),
     ("hourly", {"minute": 5}, "Každou hodinu v minutě 05"),
     ("daily", {"time": "07:00"}, "Denně v 07:00 (Europe/Prague)"),
     ("weekly", {"weekdays": [0, 1, 2, 3, 4], "time": "08:00"}, "Každý pracovní den v 08:00 (Europe/Prague)"),
     ("weekly", {"weekdays": [0, 2, 4], "time": "08:00"},
      "Každý týden (pondělí, středa a pátek) v 08:00 (Europe/Prague)"),
     ("monthly", {"day": 31, "time": "06:00"},
      "Měsíčně 31. den (nebo poslední den měsíce) v 06:00 (Europe/Prague)"),
     ("cron", {"cron": "0 7 * * 1-5"}, "Cron „0 7 * * 1-5“ (Europe/Prague)")],
)
def test_schedules_in_czech_words(kind, params, words):
    assert describe_schedule(JobSchedule(ScheduleKind(kind), params, "Europe/Prague"), "cs") == words


def test_the_preview_in_czech_names_days_from_the_locale_data():
    schedule = JobSchedule(ScheduleKind.DAILY, {"time": "07:30"}, "Europe/Prague")

    behind = preview_schedule(schedule, "America/Los_Angeles", utc(2026, 3, 28, 12, 0), count=1,
                              locale="cs")

    assert behind.words == "Denně v 07:30 (Europe/Prague)"
    assert behind.runs == ["ne 2026-03-29 07:30 (váš čas so 22:30, America/Los_Angeles)"]


def test_a_gap_time_refusal_is_worded_in_czech_when_shown():
    with pytest.raises(ScheduleError) as refused:
        normalise_schedule("daily", {"time": "02:30"}, "Europe/Prague")

    czech = refusal_text(refused.value, "cs")
    assert czech.startswith("Čas 02:30 v pásmu Europe/Prague dne ")
    assert czech.endswith("neexistuje, protože se posouvají hodiny dopředu: zvolte čas mimo tuto hodinu.")
    assert str(refused.value).startswith("02:30 does not exist in Europe/Prague on ")
