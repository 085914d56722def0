"""Reading what a request brings: integer query arguments, `next` addresses, NUL bytes.

Every view reads integer query arguments through `query_int` and follows a `next` only
through `safe_next`; `refuse_nul_bytes` runs before every request.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote, urlsplit

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

from ppc_robot.lib.bounds import ID_MAX, parse_int

security_log = logging.getLogger("ppc_robot.security")


class IdConverter(IntegerConverter):
    """Flask's `int` converter bounded to the ids a row can have: anything larger is a 404.

    Registered as `int`, so every `<int:...>` route gets it; an unbounded number would reach
    the query and fail there (SQLite's OverflowError past 64 bits).
    """

    regex = r"[0-9]+"  # ASCII digits only: "\\d" would take other scripts' digits too

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = ID_MAX, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def query_int(name: str, default: int | None = None, *, minimum: int = 0,
              maximum: int = ID_MAX) -> int | None:
    """The query argument `name` as a whole number within [minimum, maximum], or `default`.

    Blank counts as absent; so does anything that is not such a number, as a filter with a
    typo filters nothing.
    """
    value = parse_int(request.args.get(name), minimum=minimum, maximum=maximum)
    return default if value is None else value


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default`.

    Browsers drop tabs and newlines inside addresses and read a backslash as a slash, so
    "/\\t/evil.example" and "/\\\\evil.example" lead off-site; any control character, space
    or backslash is refused, as is anything that is not a single-slash path once
    percent-decoded (a proxy or a later step may decode it).
    """
    if not isinstance(target, str) or not _is_local_path(target, allow_spaces=False):
        return default
    decoded = target
    for _ in range(3):  # "%252F" is "%2F" decoded once and "/" twice
        decoded = unquote(decoded)
        if not _is_local_path(decoded, allow_spaces=True):
            return default
    return target


def _is_local_path(value: str, *, allow_spaces: bool) -> bool:
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return False
    # isprintable() is False for tabs, newlines and every other control or separator but " "
    if not value.isprintable() or (not allow_spaces and " " in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


class NulByteError(BadRequest):
    description = ("The request contains a NUL character, which no field accepts. "
                   "Remove it and send the form again.")


def refuse_nul_bytes() -> None:
    """Answer 400 to a query string or form carrying a NUL byte.

    No field takes one, and PostgreSQL refuses it in text, so it would otherwise fail as a
    database error wherever it reached a query.
    """
    for source in (request.args, request.form):
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                security_log.info("request to %s with a NUL byte refused", request.path)
                raise NulByteError()
