"""Every user-facing string can be translated, and has its Czech translation.

Other branches add templates and notification types: a failure names the file and line of each
string to mark, or the msgid to translate (see the README's "Translations" for the steps).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import render_template
from flask_babel import force_locale

from ppc_robot.lib.i18n import TRANSLATIONS_DIR, compile_catalogs, translate
from ppc_robot.lib.notifications.translated import catalogue_texts
from tests.support.template_text import untranslated

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
PO_FILE = TRANSLATIONS_DIR / "cs" / "LC_MESSAGES" / "messages.po"


# The demo site imitates a third-party shop that the sandbox's ads link to, for the URL checker to
# find its soft 404 ("Omlouváme se, produkt … již neexistuje" is the shop's own Czech text): it
# is not our interface, so it is not translated.
NOT_OUR_INTERFACE = (TEMPLATES / "demo_site",)


def _template_paths() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt")
                  and not any(p.is_relative_to(folder) for folder in NOT_OUR_INTERFACE))


def _extracted_msgids() -> dict[str | tuple[str, ...], str]:
    """The msgids the code and templates hold now, extracted with babel.cfg as the README's
    `pybabel extract` does; each with where it was found."""
    with (ROOT / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}
    found: dict[str | tuple[str, ...], str] = {}
    def only_sources(directory: str) -> bool:
        relative = Path(directory).relative_to(ROOT).parts
        return not relative or relative[0] in ("ppc_robot", "templates")

    for path, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords,
            directory_filter=only_sources):
        found.setdefault(message, f"{path}:{lineno}")
    return found


def _czech_catalog():
    with PO_FILE.open("rb") as file:
        return read_po(file, locale="cs")


def test_no_template_shows_text_outside_trans() -> None:
    findings = [f"{path.relative_to(ROOT)}:{finding.line}: {finding.kind} {finding.text!r}"
                for path in _template_paths()
                for finding in untranslated(path.read_text(encoding="utf-8"))]

    assert not findings, ("Mark these strings with {% trans %}…{% endtrans %} or _(…):\n"
                          + "\n".join(findings))


def test_every_extracted_msgid_has_a_czech_translation() -> None:
    czech = _czech_catalog()
    extracted = _extracted_msgids()

    missing = []
    for message, where in extracted.items():
        msgid = message[0] if isinstance(message, tuple) else message
        translated = czech.get(msgid)
        strings = [] if translated is None else (
            list(translated.string) if isinstance(translated.string, tuple) else [translated.string])
        if translated is None or translated.fuzzy or not all(strings):
            missing.append(f"{where}: {msgid!r}")

    assert "Report failed" in extracted  # the notification catalogue's own extraction ran
    assert not missing, ("Run the README's extract/update steps and translate these in "
                         f"{PO_FILE.relative_to(ROOT)}:\n" + "\n".join(missing))


def test_the_czech_catalog_has_no_fuzzy_entries() -> None:
    fuzzy = [message.id for message in _czech_catalog() if message.id and message.fuzzy]

    assert not fuzzy


def test_every_notification_text_reads_in_czech() -> None:
    compile_catalogs()

    untranslated_texts = [text for text in catalogue_texts() if translate(text, "cs") == text]

    assert not untranslated_texts, ("Notification texts without Czech (extract, update and "
                                    "translate):\n" + "\n".join(untranslated_texts))


@pytest.mark.parametrize(("source", "expected"), [
    ("<p>Hello</p>", ["Hello"]),
    ("<p>{% trans %}Hello{% endtrans %}</p>", []),
    ('<a title="Open it">x</a>', ["Open it"]),
    ('{{ form_card(form, title="New folder") }}', ["New folder"]),
    ('{{ empty_state("No jobs yet", _("Add one.")) }}', ["No jobs yet"]),
    ('<span class="{{ \'d-none\' if x }}">PPC Robot</span>', []),
    ("<script>let a = 'text here';</script>", []),
])
def test_the_scanner_finds_bare_text(source, expected) -> None:
    assert [finding.text for finding in untranslated(source)] == expected


@pytest.mark.parametrize(("locale", "expected", "absent"), [
    ("cs", ["Vstupní stránky", "Nefunkční: 3", "Zatím nezkontrolováno: 5", "Problém",
            "Prvních 1 z 3 nefunkčních URL; výstup je uvádí všechny."], "Broken"),
    ("en", ["Landing pages", "Broken: 3", "Not checked yet: 5", "Problem",
            "The first 1 of 3 broken URLs; the output lists them all."], "Nefunkční"),
])
def test_the_url_checker_panel_speaks_the_readers_language(app, locale, expected, absent) -> None:
    broken = SimpleNamespace(url="https://shop.example.test/gone", error="HTTP 404", uses=[1, 2])
    summary = SimpleNamespace(counts={"broken": 3, "unchecked": 5}, broken=[broken],
                              broken_total=3)
    with app.test_request_context(), force_locale(locale):
        html = render_template("runs/_url_checks.html", url_checks=summary)

    assert all(text in html for text in expected), html
    assert absent not in html
