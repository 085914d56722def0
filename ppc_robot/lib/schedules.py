"""Job schedules: validation, the schedule in words, and exact next runs in the job's zone.

A schedule is the job's `schedule_kind`, its `schedule` JSON and its `time_zone`:

| kind      | JSON                                   | runs                                  |
| --------- | -------------------------------------- | ------------------------------------- |
| manual    | {}                                     | only when started by hand             |
| hourly    | {"minute": 15}                         | every hour at that minute             |
| daily     | {"time": "07:00"}                      | every day at that local time          |
| weekly    | {"weekdays": [0, 3], "time": "08:00"}  | on those days (0 = Monday) at the time|
| monthly   | {"day": 31, "time": "06:00"}           | on that day (the last day in shorter  |
|           |                                        | months) at the time                   |
| cron      | {"cron": "*/15 8-18 * * 1-5"}          | a five-field cron expression, read in |
|           |                                        | the job's wall-clock time             |

Times are wall-clock times of the job's zone. Around daylight-saving changes the rules are:
a local time that occurs twice (autumn) runs once, at its first occurrence; a local time that
does not exist (spring) is refused when the schedule is saved, and a stored schedule that meets
one anyway (zone rules change) runs once, as many minutes after the gap began as it asked for
(02:30 in a 02:00-03:00 gap runs at 03:30). Hourly schedules count real hours, so the short
spring day has 23 runs and the long autumn day 25.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date, get_day_names
from croniter import croniter

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_, locale_or_default, translate
from ppc_robot.lib.models import ScheduleKind

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# How far ahead a schedule is checked for local times swallowed by a DST gap.
_GAP_HORIZON_DAYS = 3 * 366
_MAX_CRON_STEPS = 5000


class ScheduleError(PpcRobotError):
    """A schedule that cannot be saved; `field` names the part the message belongs to."""

    def __init__(self, message: str, *, field: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


@dataclass(frozen=True)
class JobSchedule:
    """What a job's schedule columns hold, as one value the scheduler and pages pass around."""

    kind: ScheduleKind
    params: Mapping[str, Any] = field(default_factory=dict)
    time_zone: str = "UTC"

    @classmethod
    def of(cls, job: Any) -> JobSchedule:
        """The schedule of anything with schedule_kind, schedule and time_zone (a Job)."""
        return cls(ScheduleKind(job.schedule_kind), dict(job.schedule or {}), job.time_zone)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.time_zone)


@lru_cache(maxsize=1)
def weekday_names(locale: str | None = None) -> list[str]:
    """Monday to Sunday in `locale` (English by default), from Babel's locale data."""
    names = get_day_names("wide", locale=locale_or_default(locale))
    return [names[day] for day in range(7)]


def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (the editor's choices)."""
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _parse_time(value: Any) -> time:
    match = _TIME.match(str(value or "").strip())
    if not match:
        raise ScheduleError(N_("Give the time as HH:MM, for example 07:30."), field="time")
    return time(int(match.group(1)), int(match.group(2)))


def _parse_int(value: Any, low: int, high: int, message: str, field_name: str) -> int:
    if isinstance(value, bool):
        raise ScheduleError(message, field=field_name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ScheduleError(message, field=field_name) from None
    if not low <= number <= high:
        raise ScheduleError(message, field=field_name)
    return number


def _weekdays(value: Any) -> list[int]:
    if not isinstance(value, list | tuple) or not value:
        raise ScheduleError(N_("Pick at least one day of the week."), field="weekdays")
    days = {_parse_int(d, 0, 6, N_("Pick days of the week from the list."), "weekdays") for d in value}
    return sorted(days)


def _cron_expression(value: Any) -> str:
    expression = " ".join(str(value or "").split())
    if len(expression.split(" ")) != 5 or not croniter.is_valid(expression):
        raise ScheduleError(
            N_("That is not a valid cron expression: use five fields "
               "(minute hour day-of-month month day-of-week), for example “0 7 * * 1-5”."),
            field="cron",
        )
    return expression


def normalise_schedule(kind: ScheduleKind | str, params: Mapping[str, Any], time_zone: str) -> JobSchedule:
    """The schedule with only the keys its kind uses, in their stored form.

    Raises ScheduleError (with the field at fault) for an unknown zone, a missing or malformed
    part, a cron expression that is invalid or never fires, and a local time that falls into a
    daylight-saving gap on a day the schedule runs.
    """
    try:
        kind = ScheduleKind(kind)
    except ValueError:
        raise ScheduleError(N_("Choose how often the job runs."), field="kind") from None
    if time_zone not in time_zone_names():
        raise ScheduleError(N_("Choose a time zone from the list."), field="time_zone")
    clean: dict[str, Any] = {}
    if kind is ScheduleKind.HOURLY:
        clean["minute"] = _parse_int(
            params.get("minute", 0), 0, 59, N_("Give a minute from 0 to 59."), "minute"
        )
    elif kind is ScheduleKind.CRON:
        clean["cron"] = _cron_expression(params.get("cron"))
    elif kind is not ScheduleKind.MANUAL:
        if kind is ScheduleKind.WEEKLY:
            clean["weekdays"] = _weekdays(params.get("weekdays"))
        if kind is ScheduleKind.MONTHLY:
            clean["day"] = _parse_int(
                params.get("day"), 1, 31, N_("Give a day of the month from 1 to 31."), "day"
            )
        clean["time"] = _parse_time(params.get("time")).strftime("%H:%M")
    schedule = JobSchedule(kind, clean, time_zone)
    if kind is ScheduleKind.CRON and next_run_after(schedule, datetime.now(UTC)) is None:
        raise ScheduleError(N_("That cron expression never runs."), field="cron")
    if kind in (ScheduleKind.DAILY, ScheduleKind.WEEKLY, ScheduleKind.MONTHLY):
        _refuse_gap_time(schedule)
    return schedule


def _refuse_gap_time(schedule: JobSchedule) -> None:
    at = _parse_time(schedule.params["time"])
    zone = schedule.zone
    for day in _gap_days(schedule.time_zone):
        if not _runs_on(schedule, day):
            continue
        local = datetime.combine(day, at, tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            raise ScheduleError(
                N_("%(time)s does not exist in %(zone)s on %(day)s, when the clocks go forward: "
                   "choose a time outside that hour."),
                field="time", time=f"{at:%H:%M}", zone=schedule.time_zone, day=day.isoformat(),
            )


@lru_cache(maxsize=256)
def _gap_days(zone_name: str) -> tuple[date, ...]:
    """Local days, from today on, on which the zone's clocks jump forward."""
    zone = _zone(zone_name)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = []
    for step in range(_GAP_HORIZON_DAYS):
        day_start = start + timedelta(days=step)
        before = day_start.astimezone(zone).utcoffset()
        after = (day_start + timedelta(days=1)).astimezone(zone).utcoffset()
        if before is None or after is None or after <= before:
            continue
        for minutes in range(0, 24 * 60 + 1, 15):
            instant = day_start + timedelta(minutes=minutes)
            if instant.astimezone(zone).utcoffset() == after:
                days.append(instant.astimezone(zone).date())
                break
    return tuple(days)


def _runs_on(schedule: JobSchedule, day: date) -> bool:
    if schedule.kind is ScheduleKind.DAILY:
        return True
    if schedule.kind is ScheduleKind.WEEKLY:
        return day.weekday() in schedule.params["weekdays"]
    if schedule.kind is ScheduleKind.MONTHLY:
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(int(schedule.params["day"]), last)
    return False


def _candidate_days(schedule: JobSchedule, first: date) -> Iterator[date]:
    day = first
    for _ in range(400):  # every kind runs at least once in any 31 days
        if _runs_on(schedule, day):
            yield day
        day += timedelta(days=1)


def _local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    # fold=0: a repeated time means its first occurrence, and a time inside a gap takes the
    # offset from before the gap, which lands as far after the gap's start as it asked for.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def next_run_after(schedule: JobSchedule, after: datetime) -> datetime | None:
    """The first run strictly after `after` (aware), in UTC; None for manual or never.

    A pure function of its arguments: the scheduler calls it with the last scheduled time.
    """
    if after.tzinfo is None:
        raise ValueError("next_run_after needs an aware datetime")
    after = after.astimezone(UTC)
    kind = schedule.kind
    if kind is ScheduleKind.MANUAL:
        return None
    zone = schedule.zone
    if kind is ScheduleKind.HOURLY:
        return _next_hourly(int(schedule.params.get("minute", 0)), zone, after)
    if kind is ScheduleKind.CRON:
        return _next_cron(str(schedule.params["cron"]), zone, after)
    at = _parse_time(schedule.params["time"])
    first = after.astimezone(zone).date() - timedelta(days=1)
    for day in _candidate_days(schedule, first):
        candidate = _local_to_utc(day, at, zone)
        if candidate > after:
            return candidate
    return None


def _next_hourly(minute: int, zone: ZoneInfo, after: datetime) -> datetime:
    # Real hours: the local minute of each UTC hour is fixed by the zone's offset, which may
    # not be whole hours (Asia/Kolkata), so step through UTC hours and pick the local minute.
    base = after.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    candidates = []
    for hours in range(4):
        start = base + timedelta(hours=hours)
        local_minute = start.astimezone(zone).minute
        candidate = start + timedelta(minutes=(minute - local_minute) % 60)
        if candidate > after:
            candidates.append(candidate)
    return min(candidates)


def _next_cron(expression: str, zone: ZoneInfo, after: datetime) -> datetime | None:
    # croniter walks naive wall-clock times; each is placed in the zone with the same fold
    # rule as the other kinds, and anything not strictly later than `after` is skipped (the
    # repeated autumn hour, and gap times landing on the same instant as the hour after).
    local = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    walker = croniter(expression, local - timedelta(hours=3))
    for _ in range(_MAX_CRON_STEPS):
        try:
            naive = walker.get_next(datetime)
        except (StopIteration, ValueError, OverflowError):
            return None
        if naive.year > after.year + 30:
            return None
        candidate = naive.replace(tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
    return None


def next_runs(schedule: JobSchedule, after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` runs after `after`, in UTC, in order (fewer for manual or never)."""
    runs: list[datetime] = []
    current = after
    while len(runs) < count:
        following = next_run_after(schedule, current)
        if following is None:
            break
        runs.append(following)
        current = following
    return runs


def describe_schedule(schedule: JobSchedule, locale: str | None = None) -> str:
    """The schedule in words in `locale` (English by default), as the folder page and the job
    page show it; day names come from Babel's locale data."""
    params = schedule.params
    kind = schedule.kind
    if kind is ScheduleKind.MANUAL:
        return translate(N_("Manually"), locale)
    words: dict[str, Any] = {"zone": schedule.time_zone, "time": params.get("time", "")}
    if kind is ScheduleKind.HOURLY:
        return translate(N_("Every hour at minute %(minute)s"), locale) % {
            "minute": f"{int(params.get('minute', 0)):02d}"}
    if kind is ScheduleKind.CRON:
        return translate(N_("Cron “%(cron)s” (%(zone)s)"), locale) % (
            words | {"cron": params.get("cron", "")})
    if kind is ScheduleKind.DAILY:
        return translate(N_("Daily at %(time)s (%(zone)s)"), locale) % words
    if kind is ScheduleKind.WEEKLY:
        days = list(params.get("weekdays", []))
        if days == [0, 1, 2, 3, 4]:
            return translate(N_("Weekly on weekdays at %(time)s (%(zone)s)"), locale) % words
        if len(days) == 7:
            return translate(N_("Weekly on every day at %(time)s (%(zone)s)"), locale) % words
        names = weekday_names(locale)
        words["days"] = _join([names[d] for d in days], locale)
        return translate(N_("Weekly on %(days)s at %(time)s (%(zone)s)"), locale) % words
    words["day"] = int(params.get("day", 1))
    if words["day"] > 28:
        return translate(
            N_("Monthly on day %(day)s (or the month's last day) at %(time)s (%(zone)s)"), locale
        ) % words
    return translate(N_("Monthly on day %(day)s at %(time)s (%(zone)s)"), locale) % words


@dataclass(frozen=True)
class SchedulePreview:
    """A schedule as the editor and the job page show it: in words, and its next runs."""

    words: str
    runs: list[str]


def preview_schedule(
    schedule: JobSchedule, viewer_zone: str, now: datetime, *, count: int = 5,
    locale: str | None = None,
) -> SchedulePreview:
    """The schedule in words and its next `count` runs after `now`.

    Each run is given in the job's zone; when the viewer's zone differs, his own time follows
    (with the day when it is another date there). An unknown viewer zone counts as UTC.
    Words and day names are in `locale` (English by default).
    """
    locale = locale_or_default(locale)
    try:
        viewer = _zone(viewer_zone)
    except (ZoneInfoNotFoundError, ValueError):
        viewer = _zone("UTC")
    shown = []
    for run in next_runs(schedule, now, count):
        local = run.astimezone(schedule.zone)
        text = f"{format_date(local.date(), 'EEE yyyy-MM-dd', locale=locale)} {local:%H:%M}"
        if viewer_zone != schedule.time_zone:
            mine = run.astimezone(viewer)
            own = f"{mine:%H:%M}"
            if mine.date() != local.date():
                own = f"{format_date(mine.date(), 'EEE', locale=locale)} {own}"
            text = translate(N_("%(run)s (your time %(time)s, %(zone)s)"), locale) % {
                "run": text, "time": own, "zone": viewer.key}
        shown.append(text)
    return SchedulePreview(describe_schedule(schedule, locale), shown)


def _join(words: list[str], locale: str | None) -> str:
    if len(words) <= 1:
        return "".join(words)
    return translate(N_("%(items)s and %(last)s"), locale) % {
        "items": ", ".join(words[:-1]), "last": words[-1]}
