"""Translations without Flask: the gettext catalogs under translations/, for the worker's mails
and notifications, and the marker for texts translated only when shown.

The web reads the same catalogs through Flask-Babel; a locale is one of `LOCALES`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberFormatError, get_decimal_symbol
from babel.numbers import parse_decimal as babel_parse_decimal
from babel.support import NullTranslations, Translations

from ppc_robot.lib.bounds import parse_decimal as plain_decimal
from ppc_robot.lib.models.users import LOCALES

TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "translations"
DEFAULT_LOCALE = LOCALES[0]


# Which locale reads numbers typed into forms; the web points it at the request's locale, the
# worker (re-validating stored parameters, written in plain digits) keeps None.
def _no_locale() -> str | None:
    return None


_number_locale: Callable[[], str | None] = _no_locale


def set_number_locale(provider: Callable[[], str | None]) -> None:
    """Let `provider` name the locale whose decimal separator form fields accept."""
    global _number_locale
    _number_locale = provider


def parse_number(text: str) -> Decimal | None:
    """A finite decimal number as typed in the current number locale ("1 234,5" in Czech),
    plain digits with a point always accepted; None when it is not one."""
    locale = _number_locale()
    if locale and locale != DEFAULT_LOCALE:
        try:
            value = babel_parse_decimal(text.strip(), locale=locale)
        except NumberFormatError:
            pass
        else:
            return value if value.is_finite() else None
    return plain_decimal(text)


def number_input_text(text: str) -> str:
    """A number as plain digits ("1234.50") written for the current number locale's input
    ("1234,50" in Czech): no grouping, so it reads back unchanged."""
    locale = _number_locale()
    if not locale or locale == DEFAULT_LOCALE:
        return text
    return text.replace(".", get_decimal_symbol(locale), 1)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention extraction looks for
    """Mark `message` for extraction; it is translated where it is shown."""
    return message


class Text(str):
    """A sentence made in lib for a page: the English text itself (a str), carrying its msgid
    (and plural msgid) and values, so that the web can say it in the reader's language."""

    msgid: str
    plural: str | None
    params: dict[str, Any]

    def __new__(cls, msgid: str, plural: str | None = None, /, **params: Any) -> Text:
        english = plural if plural is not None and params.get("count") != 1 else msgid
        text = super().__new__(cls, english % params if params else english)
        text.msgid, text.plural, text.params = msgid, plural, params
        return text


def ngettext(singular: str, plural: str, count: int, **params: Any) -> Text:
    """A sentence with a count, as a `Text` (named as gettext's, so extraction finds the pair)."""
    return Text(singular, plural, count=count, **params)


def locale_or_default(locale: str | None) -> str:
    """`locale` when the interface speaks it, else English."""
    return locale if locale in LOCALES else DEFAULT_LOCALE


@lru_cache(maxsize=len(LOCALES) + 1)
def translations_for(locale: str | None) -> NullTranslations:
    """The compiled catalog of `locale` (English, the source language, needs none)."""
    locale = locale_or_default(locale)
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [locale])


def translate(message: str, locale: str | None) -> str:
    """`message` (an English msgid) in `locale`; itself when there is no translation."""
    if not message:
        return message
    return translations_for(locale).gettext(message)


def refusal_text(exc: BaseException, locale: str | None) -> str:
    """A refusal (a PpcRobotError) in `locale`: its msgid translated, then its placeholders
    filled; any other exception's text translated as it stands."""
    message = getattr(exc, "message", None)
    if message is None:
        return translate(str(exc), locale)
    params = {name: refusal_text(value, locale) if isinstance(value, BaseException) else value
              for name, value in (getattr(exc, "params", None) or {}).items()}
    translated = translate(message, locale)
    return translated % params if params else translated


def compile_catalogs(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile every messages.po under `directory` whose .mo is missing or older; the compiled
    files. Fuzzy entries are left out, as `pybabel compile` leaves them; a catalog it would
    refuse (placeholders that differ from the msgid's) raises ValueError."""
    compiled = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        # The checks `pybabel compile` makes (placeholders that differ): refused, as it refuses.
        problems = [f"{po_path}:{message.lineno}: {error}"
                    for message, errors in catalog.check() for error in errors]
        if problems:
            raise ValueError("The catalog does not compile:\n" + "\n".join(problems))
        # Written aside and renamed: parallel test workers may compile at the same moment.
        handle, temporary = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        with os.fdopen(handle, "wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(temporary, mo_path)
        compiled.append(mo_path)
    translations_for.cache_clear()
    return compiled
