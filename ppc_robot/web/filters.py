"""Jinja filters: times in the user's zone, money with its currency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from flask_login import current_user


def _user_zone() -> ZoneInfo:
    name = getattr(current_user, "time_zone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """The UTC time `value` in the current user's time zone."""
    if value is None:
        return "—"
    return value.astimezone(_user_zone()).strftime(fmt)


def money(value: Decimal | int | float | None, currency: str = "") -> str:
    """An amount with two decimals, thousands separated, and its currency code."""
    if value is None:
        return "—"
    amount = f"{Decimal(value):,.2f}".replace(",", "\u202f")
    return f"{amount} {currency}".strip()


def register_filters(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(money)
