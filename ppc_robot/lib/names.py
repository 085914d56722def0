"""The one naming rule: a named thing's name is unique within its scope regardless of case.

A unique index on lower(name) holds the rule (see `unique_name_index` in models/base.py); the
checks here only word the refusal before the database has to. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from ppc_robot.lib.errors import PpcRobotError


def same_name(column: InstrumentedAttribute[str], name: str) -> ColumnElement[bool]:
    """True for rows whose name is `name` regardless of case, as the unique index compares."""
    return func.lower(column) == name.lower()


@contextmanager
def names_checked(session: Session, error: PpcRobotError) -> Iterator[None]:
    """Make the change in the block inside a savepoint; a unique key refusing it raises `error`.

    Two requests can pass a friendly check together; the database decides. The change must be
    made inside the block (a row added or altered before the savepoint would take the whole
    transaction down with it); refused, it is undone and the session lives on for the page
    that shows the refusal.
    """
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        raise error from None


def free_name(taken: Iterable[str], name: str, max_length: int) -> str:
    """`name`, or `name (2)`, `name (3)` … the first one not in `taken` regardless of case."""
    used = {each.lower() for each in taken}
    candidate, n = name[:max_length], 1
    while candidate.lower() in used:
        n += 1
        suffix = f" ({n})"
        candidate = name[: max_length - len(suffix)] + suffix
    return candidate
