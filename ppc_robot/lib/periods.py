"""Date range presets and comparison periods, in the job's own calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def label(self) -> str:
        return f"{self.first:%Y-%m-%d} – {self.last:%Y-%m-%d}"


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def period_of(preset: str, today: date, *, first: Any = None, last: Any = None) -> Period:
    """The days a preset covers when the report runs on `today` (today itself is incomplete)."""
    yesterday = today - timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    if preset == "yesterday":
        return Period(yesterday, yesterday)
    if preset in ("last_7_days", "last_14_days", "last_30_days"):
        days = int(preset.split("_")[1])
        return Period(today - timedelta(days=days), yesterday)
    if preset == "this_week":
        return Period(monday, max(monday, yesterday))
    if preset == "last_week":
        return Period(monday - timedelta(days=7), monday - timedelta(days=1))
    if preset in ("this_month", "month_to_date"):
        return Period(month_start, max(month_start, yesterday))
    if preset == "last_month":
        last_month_end = month_start - timedelta(days=1)
        return Period(last_month_end.replace(day=1), last_month_end)
    if preset == "custom":
        return Period(_as_date(first), _as_date(last))
    raise ValueError(f"unknown date range {preset!r}")


def comparison_of(period: Period, comparison: str) -> tuple[Period, relativedelta] | None:
    """The period to compare with, and how far to shift its dates to line up with `period`."""
    if comparison == "previous_period":
        shift = relativedelta(days=period.days)
        return Period(period.first - shift, period.last - shift), shift
    if comparison == "same_period_last_year":
        shift = relativedelta(years=1)
        return Period(period.first - shift, period.last - shift), shift
    return None
