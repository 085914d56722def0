"""Numbers inside a notification's message, written the way each reader's language writes them.

A message is stored as an English template and its parameters, and shown in the reader's
language (`lib/notifications/translated.py`). An amount, a share or a ratio among the
parameters is stored as its digits with what it is (`{"money": "7955.99", "currency": "CZK"}`),
not as English text, so that a Czech reader sees "7 955,99 Kč" where an English one sees
"CZK 7,955.99".
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import format_currency, format_decimal, format_percent

from ppc_robot.lib.i18n import translate

CENT = Decimal("0.01")
DASH = "—"
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def money_text(amount: Decimal | int | float, currency: str, locale: str) -> str:
    """An amount with its currency as `locale` writes it ("CZK 1,234.56", "1 234,56 Kč")."""
    # CLDR's currencySpacing, which Babel does not apply: a currency code written before or
    # after the digits ("CZK1,234.56" in English) gets a no-break space.
    return _LETTER_DIGIT.sub("\u00a0", format_currency(Decimal(amount), currency, locale=locale))


def _pattern_with_places(pattern: str, places: int) -> str:
    """The locale's number `pattern` with exactly `places` decimals."""
    head, zero, tail = pattern.rpartition("0")
    return f"{head}{zero}{'.' + '0' * places if places else ''}{tail}"


def number_text(value: Decimal | int | float, places: int | None, locale: str) -> str:
    """A number with `locale`'s separators; `places` decimals when given, else as needed."""
    pattern = "#,##0.###" if places is None else _pattern_with_places("#,##0", places)
    return format_decimal(Decimal(value), format=pattern, locale=locale)


def percent_text(share: Decimal | int | float, places: int, locale: str) -> str:
    """A share (0.15) as `locale` writes a percentage ("15.0%", "15,0 %")."""
    pattern = _pattern_with_places(Locale.parse(locale).percent_formats[None].pattern, places)
    return format_percent(Decimal(share), format=pattern, locale=locale)


def money_value(amount: Decimal | None, currency: str) -> dict[str, str] | str:
    """An amount as a message parameter (a dash when there is none)."""
    if amount is None:
        return DASH
    return {"money": str(amount.quantize(CENT)), "currency": currency}


def percent_value(share: Decimal | None, places: int = 1, *,
                  signed: bool = False) -> dict[str, Any] | str:
    """A share (0.348) as a message parameter, shown as a percentage with `places` decimals
    (with its sign when `signed`: a change)."""
    if share is None:
        return DASH
    return {"percent": str(share), "places": places, **({"signed": True} if signed else {})}


def number_value(value: Decimal | None, places: int | None = 2) -> dict[str, Any] | str:
    """A number such as a ROAS (two decimals) or a count (`places` None: as many as it has) as
    a message parameter."""
    return DASH if value is None else {"number": str(value), "places": places}


def sentence_value(msgid: str, **params: Any) -> dict[str, Any]:
    """A sentence as a message parameter: its msgid (marked with `N_`) and its own values, put
    together in the reader's language."""
    return {"say": msgid, "with": params}


def value_text(value: Any, locale: str) -> Any:
    """A stored parameter as `locale` writes it (a list: its items joined by "; "); anything
    but the values above as stored."""
    if isinstance(value, list):
        return "; ".join(str(value_text(item, locale)) for item in value)
    if not isinstance(value, dict):
        return value
    try:
        if "say" in value:
            params = {name: value_text(item, locale)
                      for name, item in (value.get("with") or {}).items()}
            return translate(str(value["say"]), locale) % params if params else translate(
                str(value["say"]), locale)
        if "money" in value:
            return money_text(Decimal(value["money"]), str(value.get("currency", "")), locale)
        if "percent" in value:
            share = Decimal(value["percent"])
            text = percent_text(share, int(value.get("places", 1)), locale)
            return "+" + text if value.get("signed") and share > 0 else text
        if "number" in value:
            places = value.get("places")
            return number_text(Decimal(value["number"]), None if places is None else int(places),
                               locale)
    except (ArithmeticError, ValueError, TypeError, KeyError):
        pass
    return value
