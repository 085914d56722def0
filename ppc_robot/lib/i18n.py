"""Translations without Flask: the gettext catalogs under translations/, for the worker's mails
and notifications, and the marker for texts translated only when shown.

The web reads the same catalogs through Flask-Babel; a locale is one of `LOCALES`.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from ppc_robot.lib.models.users import LOCALES

TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "translations"
DEFAULT_LOCALE = LOCALES[0]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention extraction looks for
    """Mark `message` for extraction; it is translated where it is shown."""
    return message


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


def compile_catalogs(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile every messages.po under `directory` whose .mo is missing or older; the compiled
    files. Fuzzy entries are left out, as `pybabel compile` leaves them."""
    compiled = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        # Written aside and renamed: parallel test workers may compile at the same moment.
        handle, temporary = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        with os.fdopen(handle, "wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(temporary, mo_path)
        compiled.append(mo_path)
    translations_for.cache_clear()
    return compiled
