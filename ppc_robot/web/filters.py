"""Jinja filters and helpers: times in the user's zone; numbers, money, percentages and dates
as the user's locale writes them (Babel); tag options."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_decimal
from flask import Flask, g, has_request_context, request, url_for
from flask_babel import format_date, format_datetime, get_locale, gettext
from flask_login import current_user
from markupsafe import Markup, escape

from ppc_robot.lib.i18n import DEFAULT_LOCALE
from ppc_robot.lib.message_values import money_text, number_text, percent_text
from ppc_robot.lib.outputs.totals import TOTAL_LABEL
from ppc_robot.lib.stored_text import reword
from ppc_robot.lib.times import local_log, zone_of

DEFAULT_TIME_FORMAT = "%Y-%m-%d %H:%M"
# A log line after local_log: its local time, then the message.
_LOG_LINE = re.compile(r"^(\d\d:\d\d:\d\d )?(.*)$", re.S)


def _user_zone_name() -> str:
    # Once per request: a job list formats two times a row, and each look at current_user
    # goes through Flask-Login's proxy.
    name = g.get("user_zone")
    if name is None:
        name = g.user_zone = getattr(current_user, "time_zone", None) or "UTC"
    return name


def localtime(value: datetime | None, fmt: str = DEFAULT_TIME_FORMAT, zone: str | None = None) -> str:
    """The UTC time `value` in the current user's time zone (or in `zone`, when the caller
    already holds the user's zone name)."""
    if value is None:
        return "—"
    return _local_text(value, zone or _user_zone_name(), fmt)


def named_localtime(value: datetime | None, fmt: str = DEFAULT_TIME_FORMAT) -> str:
    """`localtime` followed by the zone's name, for text that leaves its page (a flash message)
    or stands beside someone else's zone."""
    if value is None:
        return "—"
    return f"{localtime(value, fmt)} ({viewer_zone()})"


def viewer_zone() -> str:
    """The name of the zone the current user's times are shown in."""
    return zone_of(_user_zone_name()).key


def run_log(log: str, started_at: datetime | None = None) -> str:
    """A run's log with its UTC stamps shown in the current user's zone, each line in the
    request's language where the catalog knows it (stored in English)."""
    locale = str(get_locale() or DEFAULT_LOCALE)
    lines = local_log(log, _user_zone_name(), started_at).split("\n")
    if locale == DEFAULT_LOCALE:
        return "\n".join(lines)
    return "\n".join(_LOG_LINE.sub(lambda m: (m.group(1) or "") + reword(m.group(2), locale), line)
                     for line in lines)


@lru_cache(maxsize=4096)
def _local_text(value: datetime, zone_name: str, fmt: str) -> str:
    # Cached: a list's jobs mostly run at the same few times (every morning at 7, …).
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = value.astimezone(zone)
    if fmt == DEFAULT_TIME_FORMAT:
        return local.isoformat(" ", "minutes")[:16]  # the same text, for half the time of strftime
    return local.strftime(fmt)


def _locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def money(value: Decimal | int | float | None, currency: str = "") -> str:
    """An amount with its currency as the user's locale writes it ("CZK 1,234.56",
    "1 234,56 Kč"); without a currency, the number with two decimals."""
    if value is None:
        return "—"
    if not currency:
        return number(value, 2)
    return money_text(value, currency, _locale())


def number(value: Decimal | int | float | None, places: int | None = None) -> str:
    """A number with the locale's separators; `places` decimals when given, else as needed."""
    if value is None:
        return "—"
    return number_text(value, places, _locale())


def conversions(value: Decimal | int | float | None) -> str:
    """Conversions: whole ones without decimals, fractional (modelled) ones with up to two."""
    if value is None:
        return "—"
    return format_decimal(Decimal(value), format="#,##0.##", locale=_locale())


def ratio(value: Decimal | None, places: int = 2) -> str:
    """A ratio such as ROAS with `places` decimals, or a dash when there is none."""
    return number(value, places)


def percent(value: Decimal | None, places: int = 1) -> str:
    """A share (0.15) as a percentage ("15.0%", "15,0 %"), or a dash when there is none."""
    if value is None:
        return "—"
    return percent_text(value, places, _locale())


def points(value: Decimal | None, places: int = 2) -> str:
    """The change of a share (0.0007) in percentage points ("−0.07 p.p.", "−0,07 p. b.")."""
    if value is None:
        return "—"
    figure = number(Decimal(value) * 100, places).replace("-", "\u2212")
    if Decimal(value) > 0:
        figure = "+" + figure
    return gettext("%(value)s p.p.", value=figure)


def preview_rows(preview: Any, totals: bool = False) -> list[list[str]]:
    """A run preview's rows (or its totals rows) in the reader's locale: numeric cells from
    their exact values, money with its currency; a preview saved before the values were kept
    (or any cell without one) shows its stored text."""
    texts = preview.totals if totals else preview.rows
    values = preview.totals_values if totals else preview.values
    kinds = preview.kinds
    if len(values) != len(texts):
        return texts
    currencies = preview.totals_currencies if totals else [preview.currency] * len(texts)
    return [
        [_preview_cell(text, value, kind, currency)
         for text, value, kind in zip(row, numbers, kinds, strict=True)]
        if len(numbers) == len(row) == len(kinds) else row
        for row, numbers, currency in zip(texts, values, currencies, strict=False)
    ]


def _preview_cell(text: str, value: str | None, kind: str, currency: str) -> str:
    if value is None:
        if text == TOTAL_LABEL or text.startswith(TOTAL_LABEL + " "):  # "Total CZK"
            return gettext("Total") + text[len(TOTAL_LABEL):]
        return text
    amount = Decimal(value)
    if kind == "money":
        return money(amount, currency)
    if kind == "percent":
        return percent(amount, 2)
    if kind in ("ratio", "decimal"):
        return number(amount, 2)
    if kind == "integer":
        return number(amount, 0)
    return text


BEFORE = " (before)"  # the comparison period's columns: "Cost (before)"


def preview_label(text: str) -> str:
    """A preview's column or series label (an English msgid, maybe of the comparison period)
    in the reader's language."""
    if text.endswith(BEFORE):
        return gettext("%(metric)s (before)", metric=gettext(text[:-len(BEFORE)]))
    return gettext(text) if text else text


def localised_chart(chart: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored run chart with its series labels and axis titles in the reader's language (the
    axis titles rebuilt from their first series and unit, as the runner writes them)."""
    if not chart:
        return chart
    series = [{**item, "label": preview_label(item.get("label", ""))}
              for item in chart.get("series", [])]
    titles = dict(chart.get("titles", {}))
    if "x" in titles:
        titles["x"] = gettext(titles["x"])
    for axis, unit_key in (("y", "unit"), ("y2", "unit2")):
        first = next((item for item in series if item.get("axis", "y") == axis), None)
        if axis in titles and first is not None:
            unit = chart.get(unit_key, "")
            titles[axis] = f"{first['label']} ({unit})" if unit else first["label"]
    return {**chart, "series": series, "titles": titles}


def datetime_text(value: datetime | None, fmt: str = "medium") -> str:
    """A UTC time as the user's locale writes it, in the user's zone."""
    if value is None:
        return "—"
    return format_datetime(value, fmt)


def date_text(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date as the user's locale writes it (a datetime is taken in the user's zone)."""
    if value is None:
        return "—"
    return format_date(value, fmt)


def sparkline_points(values: Sequence[Decimal | int | float], width: int = 120,
                     height: int = 24) -> str:
    """The `points` of an SVG polyline drawing `values` from left to right, 0 at the bottom.

    Drawn here rather than in the template: a dashboard shows a few hundred of them.
    """
    if not values:
        return ""
    top = max(max(values), 0) or 1
    step = width / max(len(values) - 1, 1)
    pad = 1
    return " ".join(f"{n * step:.1f},{pad + (height - 2 * pad) * (1 - float(v) / float(top)):.1f}"
                    for n, v in enumerate(values))


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


def template_url_for(endpoint: str, **values: Any) -> str:
    """`url_for` for templates, remembering the addresses it built.

    A page links to the same few dozen addresses on every request (navigation, assets, the
    folder's actions), and building one cost more than the rest of its line. An address
    depends only on the endpoint, its values and where the app is mounted; anything unusual
    (an external or anchored address, a value that cannot be a key) is built afresh.
    """
    if not has_request_context() or any(key.startswith("_") for key in values):
        return url_for(endpoint, **values)
    blueprint = request.blueprint if endpoint.startswith(".") else None
    try:
        key = (request.script_root, blueprint, endpoint, tuple(values.items()))
        hash(key)
    except TypeError:
        return url_for(endpoint, **values)
    return _built_url(key)


@lru_cache(maxsize=4096)
def _built_url(key: tuple[str, str | None, str, tuple[tuple[str, Any], ...]]) -> str:
    _, _, endpoint, values = key
    return url_for(endpoint, **dict(values))


def reworded(text: str | None) -> str:
    """A sentence the worker stored in English, in the request's language when the catalog
    knows it (ppc_robot.lib.stored_text); else as stored."""
    return reword(text, str(get_locale() or DEFAULT_LOCALE))


def register_filters(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(reworded)
    app.add_template_filter(named_localtime)
    app.add_template_filter(run_log)
    app.add_template_global(viewer_zone)
    app.add_template_filter(money)
    app.add_template_filter(ratio)
    app.add_template_filter(percent)
    app.add_template_filter(number)
    app.add_template_filter(conversions)
    app.add_template_filter(points)
    app.add_template_filter(datetime_text, "datetime")
    app.add_template_filter(date_text, "date")
    app.add_template_filter(sparkline_points)
    app.add_template_filter(preview_rows)
    app.add_template_filter(preview_label)
    app.add_template_filter(localised_chart)
    app.add_template_global(tag_options)
    app.add_template_global(template_url_for, "url_for")
