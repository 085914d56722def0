"""Flask-Babel: the interface language and time zone of each request."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel.support import Translations
from flask import Flask, g, has_request_context, request
from flask_babel import get_locale, get_translations, gettext, ngettext
from flask_login import current_user
from wtforms import FieldList, FormField
from wtforms.i18n import messages_path

from ppc_robot.lib.i18n import DEFAULT_LOCALE, N_, TRANSLATIONS_DIR, Text, set_number_locale
from ppc_robot.lib.models.users import LOCALES
from ppc_robot.lib.stored_text import reword
from ppc_robot.web.extensions import babel

# What the profile page offers; None follows the browser.
LANGUAGE_NAMES = {"en": "English", "cs": "Čeština"}
# A run's status as a word (the status badge).
STATUS_WORDS = {"succeeded": N_("succeeded"), "partial": N_("partial"), "failed": N_("failed"),
                "running": N_("running"), "queued": N_("queued"), "cancelled": N_("cancelled")}


# What started a run, as words (the run page and the job's run history).
TRIGGER_WORDS = {"schedule": N_("on schedule"), "manual": N_("started by hand"),
                 "catch_up": N_("catching up a missed run")}


def _word(words: dict[str, str], value: object) -> str:
    """An enum's value as its word in `words`, in the request's language (else as it is)."""
    text = str(getattr(value, "value", value))
    return gettext(words[text]) if text in words else text


def trigger_word(trigger: object) -> str:
    """What started a run, in the request's language."""
    return _word(TRIGGER_WORDS, trigger)


def say(text: Any) -> Any:
    """A sentence made in lib (`Text`) in the request's language; anything else as it is."""
    if not isinstance(text, Text):
        return text
    if text.plural is not None:
        return ngettext(text.msgid, text.plural, text.params["count"], **text.params)
    return gettext(text.msgid, **text.params)


def status_word(status: object) -> str:
    """A run status in the request's language."""
    return _word(STATUS_WORDS, status)


def refusal(exc: BaseException) -> str:
    """A lib refusal in the request's language: its msgid translated, its placeholders filled
    (any other exception's text translated as it stands)."""
    message = getattr(exc, "message", None)
    if message is None:
        return reword(str(exc), current_locale())
    if not message:
        return str(exc)
    params = {name: refusal(value) if isinstance(value, BaseException) else value
              for name, value in (getattr(exc, "params", None) or {}).items()}
    return gettext(message, **params)


def select_locale() -> str:
    """The user's chosen language, else the browser's best match, else English."""
    chosen = getattr(current_user, "locale", None) if has_request_context() else None
    if chosen in LOCALES:
        return chosen
    if has_request_context():
        return request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def select_timezone() -> str:
    """The user's time zone; UTC for visitors."""
    if not has_request_context():
        return "UTC"
    return getattr(current_user, "time_zone", None) or "UTC"


def current_locale() -> str:
    """The locale of this request ("en" outside one)."""
    return str(get_locale() or DEFAULT_LOCALE)


def _request_locale() -> str | None:
    return str(get_locale()) if has_request_context() else None


# WTForms ships its messages for Czech as cs_CZ, which a lookup for "cs" does not find.
WTFORMS_LOCALES = {"cs": "cs_CZ"}


@lru_cache(maxsize=len(LOCALES))
def _wtforms_translations(locale: str) -> Translations:
    return Translations.load(messages_path(), [WTFORMS_LOCALES.get(locale, locale)],
                             domain="wtforms")


def _set_wtforms_translations() -> None:
    """Hand Flask-WTF the built-in validators' messages in the request's language (it reads
    them from this request attribute before looking them up itself)."""
    if request.endpoint != "static":
        request.wtforms_translations = _wtforms_translations(current_locale())  # type: ignore[attr-defined]


def _translations() -> Any:
    """The catalog of the request's current locale, looked up once per locale and request:
    templates ask for it at every string (force_locale, as mails use, changes the locale)."""
    if not has_request_context():
        return get_translations()
    locale = get_locale()
    found = g.get("_ppc_translations")
    if found is None or found[0] is not locale:
        found = g._ppc_translations = (locale, get_translations())
    return found[1]


def init_babel(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # The same callables Flask-Babel installs, reading the request's catalog once.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    set_number_locale(_request_locale)
    app.add_template_global(current_locale)
    app.add_template_global(status_word)
    app.add_template_global(trigger_word)
    app.add_template_filter(say)


def translate_form(form: Any) -> Any:
    """Draw a report type's parameter form (plain English WTForms in lib) in the request's
    language: labels, descriptions and choice labels, also those of repeated sub-forms (a list
    of rules and their conditions); values are untouched."""
    for field in form:
        _translate_field(field)
    return form


def _translate_field(field: Any) -> None:
    field.label.text = gettext(field.label.text) if field.label.text else field.label.text
    if isinstance(field.description, str) and field.description:
        field.description = gettext(field.description)
    choices = getattr(field, "choices", None)
    if isinstance(choices, dict):
        field.choices = {gettext(group): _translated_choices(items)
                         for group, items in choices.items()}
    elif isinstance(choices, list):
        field.choices = _translated_choices(choices)
    if isinstance(field, FieldList):
        for entry in field.entries:
            _translate_field(entry)
    elif isinstance(field, FormField):
        translate_form(field.form)


def translate_errors(form: Any) -> Any:
    """A validated report type's form with its messages in the request's language: those the
    catalog holds as msgids ("Name the rule."); a message with values in it stays as written."""
    for field in form:
        if isinstance(field, FieldList):
            for entry in field.entries:
                translate_errors([entry])
        elif isinstance(field, FormField):
            translate_errors(field.form)
        if isinstance(field.errors, list):
            field.errors[:] = [gettext(error) if isinstance(error, str) and error else error
                               for error in field.errors]
    return form


def _translated_choices(choices: list[Any]) -> list[Any]:
    return [(choice[0], gettext(choice[1]), *choice[2:])
            if isinstance(choice, tuple) and len(choice) >= 2 and isinstance(choice[1], str)
            else choice for choice in choices]


def init_form_translations(app: Flask) -> None:
    """Registered after the write-transaction hook: finding the language loads the user, and
    on SQLite a writing request must take its lock before its first query."""
    app.before_request(_set_wtforms_translations)
