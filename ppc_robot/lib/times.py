"""Times as people read them: a UTC instant shown in a time zone, named when it must be."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.models import User

TIME_FORMAT = "%Y-%m-%d %H:%M"
LOG_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # how a run's log stamps its lines
_LOG_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|\d\d:\d\d:\d\d) ", re.M)


def zone_of(name: str | None) -> ZoneInfo:
    """The zone called `name`, or UTC for a missing or unknown name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_text(value: datetime, zone_name: str | None, fmt: str = TIME_FORMAT) -> str:
    """`value` (aware) as the clock in `zone_name` shows it."""
    return value.astimezone(zone_of(zone_name)).strftime(fmt)


def named_local_text(value: datetime, zone_name: str | None) -> str:
    """`value` in `zone_name`, followed by the zone's name: for text read outside its page."""
    return f"{local_text(value, zone_name)} ({zone_of(zone_name).key})"


def user_zone_name(session: Session, user_id: int) -> str:
    return session.scalar(select(User.time_zone).where(User.id == user_id)) or "UTC"


def local_log(log: str, zone_name: str | None, started_at: datetime | None = None) -> str:
    """A run's log with each line's UTC stamp shown as HH:MM:SS in `zone_name`.

    Logs written before the stamps carried their date hold a bare UTC HH:MM:SS; those take the
    date of the run's start (the next day when the clock went past midnight during the run).
    """
    zone = zone_of(zone_name)

    def local(match: re.Match[str]) -> str:
        stamp = match.group(1)
        if "T" in stamp:
            moment = datetime.strptime(stamp, LOG_TIME_FORMAT).replace(tzinfo=UTC)
        elif started_at is not None:
            clock = datetime.strptime(stamp, "%H:%M:%S").time()
            begun = started_at.astimezone(UTC)
            moment = datetime.combine(begun.date(), clock, tzinfo=UTC)
            if moment < begun - timedelta(minutes=1):
                moment += timedelta(days=1)
        else:
            return match.group(0)
        return f"{moment.astimezone(zone):%H:%M:%S} "

    return _LOG_STAMP.sub(local, log)
