"""The notification catalogue in the reader's language.

The catalogue stays written in English, one entry a call, so that new types are a plain append;
its texts are msgids, found by `extract_catalogue` (a Babel extraction method named in
babel.cfg) and translated here when shown. A stored notification keeps its English template
and parameters, so each reader gets the message in his own language.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, Any

from ppc_robot.lib.i18n import N_, locale_or_default, translate
from ppc_robot.lib.message_values import value_text
from ppc_robot.lib.models import Notification, NotificationLevel
from ppc_robot.lib.notifications.catalogue import BY_KEY, CATEGORY_NAMES, NotificationType
from ppc_robot.lib.stored_text import reword

LEVEL_NAMES = {NotificationLevel.ERROR: N_("error"), NotificationLevel.WARNING: N_("warning"),
               NotificationLevel.SUGGESTION: N_("suggestion")}

# Message parameters holding a word of the catalogue (a metric's name such as "Cost"), not a
# name someone gave: translated with the message.
TRANSLATED_PARAMS = ("metric",)
# Message parameters holding a sentence the worker stored in English (why a run failed), shown
# reworded when the catalog knows it (`lib/stored_text.py`).
REWORDED_PARAMS = ("reason", "error")

# The column names of notifications' details tables, and words their cells hold: msgids, shown
# translated (a cell's stored English sentence is reworded).
DETAIL_WORDS = (N_("Campaign"), N_("Ad group"), N_("Entity"), N_("Id"), N_("Paused"),
                N_("Problem"), N_("URL"), N_("Final URL"), N_("Where used"), N_("Day"),
                N_("Value"), N_("Compared as"), N_("Metric"), N_("Delivered"), N_("Now"),
                N_("yes"), N_("same weekday"), N_("yesterday"))

# The NotificationType fields a reader sees, by position after (category, code, name, level, score).
TEXT_FIELDS = ("template", "title", "explanation", "what_to_do")


def translated_type(kind: NotificationType, locale: str | None) -> NotificationType:
    """`kind` with its texts in `locale`."""
    return replace(kind, **{name: translate(getattr(kind, name), locale) for name in TEXT_FIELDS})


def translated_title(notification: Notification, locale: str | None) -> str:
    kind = BY_KEY.get((notification.category, notification.code))
    if kind is None:
        return f"{translate(N_('Notification'), locale)} {notification.category}/{notification.code}"
    return translate(kind.title, locale)


def translated_message(notification: Notification, locale: str | None) -> str:
    """The message from its template in `locale` and its stored parameters.

    The stored template is the one in force when it was raised; when the catalogue's wording
    changed since, the stored English text is shown rather than a mismatched translation.
    """
    template = translate(notification.message_template, locale)
    params = {key: _param_text(key, value, locale_or_default(locale))
              for key, value in notification.message_params.items()}
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return notification.message


def _param_text(key: str, value: Any, locale: str) -> Any:
    if isinstance(value, str) and key in TRANSLATED_PARAMS:
        return translate(value, locale)
    if isinstance(value, str) and key in REWORDED_PARAMS:
        return reword(value, locale)
    return value_text(value, locale)


def level_name(level: NotificationLevel, locale: str | None) -> str:
    """A notification level as a word in `locale`."""
    return translate(LEVEL_NAMES.get(level, level.value), locale)


def category_names(locale: str | None) -> dict[int, str]:
    return {number: translate(name, locale) for number, name in CATEGORY_NAMES.items()}


def catalogue_texts() -> Iterator[str]:
    """Every text of the catalogue a reader sees (the translation test checks each)."""
    yield from CATEGORY_NAMES.values()
    for kind in BY_KEY.values():
        for name in TEXT_FIELDS:
            yield getattr(kind, name)


def extract_catalogue(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                      options: Any) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extraction method: the user-facing strings of catalogue.py, read without running it
    (the category names, also those appended one by one, and each NotificationType's template,
    title, explanation and what to do)."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "NotificationType":
            for argument in node.args[5:9]:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    yield argument.lineno, None, argument.value, []
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                getattr(target, "id", "") == "CATEGORY_NAMES" for target in node.targets):
            for value in node.value.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    yield value.lineno, None, value.value, []
        elif (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
              and isinstance(node.value.value, str) and any(
                  isinstance(target, ast.Subscript)
                  and getattr(target.value, "id", "") == "CATEGORY_NAMES" for target in node.targets)):
            # An appended category: CATEGORY_NAMES[ANOMALIES] = "…"
            yield node.value.lineno, None, node.value.value, []
