"""Tags for jobs and tags for client accounts: create, rename, recolour, delete, usage.

Both kinds behave alike, so every function takes the tag model (Tag or ClientAccountTag).
Nothing here commits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import (
    ClientAccount,
    ClientAccountTag,
    Tag,
    User,
    client_accounts_tags,
    jobs_tags,
)
from ppc_robot.lib.models.tags import DEFAULT_TAG_COLOUR, TAG_NAME_MAX
from ppc_robot.lib.names import names_checked, same_name

logger = logging.getLogger(__name__)
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
AnyTag = TypeVar("AnyTag", Tag, ClientAccountTag)


class TagError(PpcRobotError):
    """A tag change that is refused; `field` names the part at fault."""

    def __init__(self, message: str, *, field: str = "name", **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


def _clean(name: str, colour: str) -> tuple[str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise TagError(N_("Give the tag a name."))
    if len(name) > TAG_NAME_MAX:
        raise TagError(N_("Keep the name to %(count)s characters or fewer."), count=TAG_NAME_MAX)
    colour = (colour or DEFAULT_TAG_COLOUR).strip()
    if not _COLOUR.match(colour):
        raise TagError(N_("Give the colour as #rrggbb."), field="colour")
    return name, colour.lower()


def _refuse_clash(session: Session, model: type[AnyTag], user_id: int, name: str,
                  ignore_id: int | None = None) -> None:
    stmt = select(model.id).where(model.user_id == user_id, same_name(model.name, name))
    if ignore_id is not None:
        stmt = stmt.where(model.id != ignore_id)
    if session.scalar(stmt) is not None:
        raise _clash(name)


def _clash(name: str) -> TagError:
    return TagError(N_("A tag called “%(name)s” already exists."), name=name)


def create_tag(session: Session, model: type[AnyTag], user: User, name: str,
               colour: str = DEFAULT_TAG_COLOUR) -> AnyTag:
    """A new tag of `model` for the user. Raises TagError on a bad name, colour or a clash."""
    name, colour = _clean(name, colour)
    _refuse_clash(session, model, user.id, name)
    tag = model(user_id=user.id, name=name, colour=colour)
    with names_checked(session, _clash(name)):
        session.add(tag)
    logger.info("%s %s created (user %s)", model.__name__, tag.id, user.id)
    return tag


def update_tag(session: Session, tag: AnyTag, name: str, colour: str) -> AnyTag:
    """Rename and recolour a tag. Raises TagError on a bad name, colour or a clash."""
    name, colour = _clean(name, colour)
    _refuse_clash(session, type(tag), tag.user_id, name, ignore_id=tag.id)
    with names_checked(session, _clash(name)):
        tag.name = name
        tag.colour = colour
    return tag


def delete_tag(session: Session, tag: Tag | ClientAccountTag) -> None:
    """Delete a tag; it disappears from every job or account that carried it."""
    join = jobs_tags if isinstance(tag, Tag) else client_accounts_tags
    session.execute(join.delete().where(join.c.tag_id == tag.id))
    session.delete(tag)
    session.flush()
    logger.info("%s %s deleted (user %s)", type(tag).__name__, tag.id, tag.user_id)


def tags_with_usage(session: Session, model: type[AnyTag], user: User) -> list[tuple[AnyTag, int]]:
    """The user's tags of `model` by name, each with how many jobs or accounts carry it."""
    join = jobs_tags if model is Tag else client_accounts_tags
    used = (
        select(join.c.tag_id, func.count().label("uses")).group_by(join.c.tag_id).subquery()
    )
    rows = session.execute(
        select(model, func.coalesce(used.c.uses, 0))
        .outerjoin(used, used.c.tag_id == model.id)
        .where(model.owned_by(user.id))
        .order_by(func.lower(model.name))
    ).all()
    return [(tag, int(uses)) for tag, uses in rows]


def accounts_with_tag(session: Session, tag: ClientAccountTag) -> Sequence[ClientAccount]:
    """The client accounts carrying `tag`, with their logins, by name."""
    stmt = (
        select(ClientAccount)
        .join(client_accounts_tags, client_accounts_tags.c.client_account_id == ClientAccount.id)
        .where(client_accounts_tags.c.tag_id == tag.id, ClientAccount.user_id == tag.user_id)
        .options(joinedload(ClientAccount.service_account))
        .order_by(func.lower(ClientAccount.name))
    )
    return session.scalars(stmt).all()
