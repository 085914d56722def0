"""Jinja filters and helpers: times in the user's zone, money with its currency, tag options."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, g
from flask_login import current_user
from markupsafe import Markup, escape


def _user_zone() -> ZoneInfo:
    # Once per request: a job list formats two times a row, and each look at current_user
    # goes through Flask-Login's proxy.
    zone = g.get("user_zone")
    if zone is None:
        name = getattr(current_user, "time_zone", None) or "UTC"
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        g.user_zone = zone
    return zone


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


def tag_options(tags: Sequence[tuple[int, str, str]], selected: int | None = None) -> Markup:
    """`<option>`s of the user's tags (id, name, colour), `selected` marked.

    The same list is drawn in two pickers of each job list and can hold hundreds of tags: it
    is joined here rather than looped over in Jinja, and kept for the next page that draws the
    very same list.
    """
    options = _joined_options(tuple(tags))
    if selected is not None:
        options = options.replace(f'<option value="{int(selected)}">',
                                  f'<option value="{int(selected)}" selected>', 1)
    return Markup(options)


@lru_cache(maxsize=256)
def _joined_options(tags: tuple[tuple[int, str, str], ...]) -> str:
    return "".join(f'<option value="{int(tag_id)}">{escape(name)}</option>' for tag_id, name, _ in tags)


def register_filters(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(money)
    app.add_template_global(tag_options)
