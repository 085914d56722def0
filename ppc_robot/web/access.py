"""The one place a user's objects are loaded by id, and the guards of private areas."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from typing import TypeVar

from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, bindparam, select

from ppc_robot.lib.models import Owned
from ppc_robot.web.extensions import db, login_manager

M = TypeVar("M", bound=Owned)
security_log = logging.getLogger("ppc_robot.security")


@cache
def _owned_statement(model: type[M]) -> Select[tuple[M]]:
    # Built once per model: every page loads its object through here, and building a
    # statement costs as much as SQLite answering it (the compiled SQL is cached either way).
    return select(model).where(model.id == bindparam("object_id"),
                               model.owned_by(bindparam("user_id")))


def owned(model: type[M], object_id: int) -> M:
    """Return the current user's row of `model` with this id, or abort with 404."""
    found = db.session.scalar(_owned_statement(model),
                              {"object_id": object_id, "user_id": current_user.id})
    if found is None:
        security_log.info(
            "refused %s %s to user %s (missing or not his)", model.__name__, object_id, current_user.id
        )
        abort(404)
    return found


def require_login() -> ResponseReturnValue | None:
    """Guard of private areas: a visitor who is not logged in goes to the login page."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def require_admin() -> ResponseReturnValue | None:
    """Guard of the admin area: anyone but a logged-in admin gets 404."""
    if not (current_user.is_authenticated and current_user.is_admin):
        security_log.info("admin area refused to %s", getattr(current_user, "id", "anonymous"))
        abort(404)
    return None


def owned_all(model: type[M], object_ids: Iterable[int | None]) -> list[M]:
    """The current user's rows of `model` with these ids (a form's list), or abort with 404.

    One id that is missing or not his refuses the whole list, so nothing is done half-way.
    """
    wanted = {object_id for object_id in object_ids if object_id is not None}
    if not wanted:
        return []
    stmt = select(model).where(model.id.in_(wanted), model.owned_by(current_user.id))
    found = list(db.session.scalars(stmt))
    if len(found) != len(wanted):
        security_log.info(
            "refused %s %s to user %s (missing or not his)",
            model.__name__, sorted(wanted - {row.id for row in found}), current_user.id,
        )
        abort(404)
    return sorted(found, key=lambda row: row.id)
