"""The folder tree: closure-table operations. Nothing here commits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import and_, bindparam, delete, insert, literal, select, true, union_all, update
from sqlalchemy.orm import Session, aliased

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Folder, FolderPath, Job, User
from ppc_robot.lib.models.folders import FOLDER_NAME_MAX, ROOT_FOLDER_NAME
from ppc_robot.lib.names import names_checked, same_name

logger = logging.getLogger(__name__)


class FolderError(PpcRobotError):
    """A change the folder tree does not allow; the message is for the user."""


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise FolderError(N_("Give the folder a name."))
    if len(name) > FOLDER_NAME_MAX:
        raise FolderError(N_("Keep the name to %(count)s characters or fewer."), count=FOLDER_NAME_MAX)
    return name


def _refuse_clash(session: Session, parent_id: int, name: str, *, ignore_id: int | None = None) -> None:
    clash = select(Folder.id).where(Folder.parent_id == parent_id, same_name(Folder.name, name))
    if ignore_id is not None:
        clash = clash.where(Folder.id != ignore_id)
    if session.scalar(clash) is not None:
        raise _clash(name)


def _clash(name: str) -> FolderError:
    return FolderError(N_("A folder called “%(name)s” already exists here."), name=name)


def root_folder(session: Session, user: User) -> Folder:
    """The user's root folder, created on first use."""
    folder = session.scalar(
        select(Folder).where(Folder.user_id == user.id, Folder.parent_id.is_(None))
    )
    if folder is None:
        folder = Folder(user_id=user.id, parent_id=None, name=ROOT_FOLDER_NAME)
        session.add(folder)
        session.flush()
        session.add(FolderPath(ancestor_id=folder.id, descendant_id=folder.id, depth=0))
        session.flush()
    return folder


def create_folder(session: Session, parent: Folder, name: str) -> Folder:
    """Create a folder under `parent` and record its closure rows.

    Raises FolderError for an empty or too long name, or one a sibling already has.
    """
    name = _clean_name(name)
    _refuse_clash(session, parent.id, name)
    folder = Folder(user_id=parent.user_id, parent_id=parent.id, name=name)
    with names_checked(session, _clash(name)):
        session.add(folder)  # flushed: the closure rows below need folder.id
    above = select(FolderPath.ancestor_id, literal(folder.id), FolderPath.depth + 1).where(
        FolderPath.descendant_id == parent.id
    )
    itself = select(literal(folder.id), literal(folder.id), literal(0))
    session.execute(
        insert(FolderPath).from_select(
            ["ancestor_id", "descendant_id", "depth"], above.union_all(itself)
        )
    )
    logger.info("folder %s created in folder %s (user %s)", folder.id, parent.id, parent.user_id)
    return folder


def rename_folder(session: Session, folder: Folder, name: str) -> Folder:
    """Give `folder` a new name. Raises FolderError on a bad or clashing name."""
    name = _clean_name(name)
    if folder.parent_id is not None:
        _refuse_clash(session, folder.parent_id, name, ignore_id=folder.id)
    with names_checked(session, _clash(name)):
        folder.name = name
    return folder


def is_descendant(session: Session, folder: Folder, candidate: Folder) -> bool:
    """True when `candidate` is `folder` itself or lies anywhere below it."""
    stmt = select(FolderPath.depth).where(
        FolderPath.ancestor_id == folder.id, FolderPath.descendant_id == candidate.id
    )
    return session.scalar(stmt) is not None


def move_folder(session: Session, folder: Folder, new_parent: Folder) -> Folder:
    """Move `folder` and its whole subtree under `new_parent`.

    Raises FolderError when moving the root, into the folder itself or one of its
    descendants, into another user's tree, or next to a sibling of the same name.
    """
    if folder.parent_id is None:
        raise FolderError(N_("The top folder cannot be moved."))
    if new_parent.user_id != folder.user_id:
        raise FolderError(N_("Choose one of your own folders."))
    if is_descendant(session, folder, new_parent):
        raise FolderError(N_("A folder cannot be moved into itself or one of its sub-folders."))
    if new_parent.id == folder.parent_id:
        return folder
    _refuse_clash(session, new_parent.id, folder.name, ignore_id=folder.id)
    # The parent changes first: a sibling of the same name made meanwhile stops the move before
    # any closure row changes.
    with names_checked(session, _clash(folder.name)):
        folder.parent_id = new_parent.id
    subtree = select(FolderPath.descendant_id).where(FolderPath.ancestor_id == folder.id)
    # Cut the links from everything above the folder to everything in its subtree ...
    session.execute(
        delete(FolderPath)
        .where(FolderPath.descendant_id.in_(subtree))
        .where(FolderPath.ancestor_id.not_in(subtree))
        .execution_options(synchronize_session=False)
    )
    # ... and tie every ancestor of the new parent to every member of the subtree.
    above = aliased(FolderPath)
    below = aliased(FolderPath)
    pairs = (
        select(above.ancestor_id, below.descendant_id, above.depth + below.depth + 1)
        .select_from(above)
        .join(below, true())  # every (ancestor above, member below) pair: a deliberate product
        .where(above.descendant_id == new_parent.id)
        .where(below.ancestor_id == folder.id)
    )
    session.execute(
        insert(FolderPath).from_select(["ancestor_id", "descendant_id", "depth"], pairs)
    )
    session.flush()
    logger.info("folder %s moved into folder %s (user %s)", folder.id, new_parent.id, folder.user_id)
    return folder


def delete_folder(session: Session, folder: Folder, *, move_contents_up: bool = False) -> None:
    """Delete `folder`.

    Without `move_contents_up` only an empty folder goes; with it, its sub-folders and jobs
    move to its parent first. Raises FolderError for the root, for a folder that is not
    empty when the contents are to stay, and when a sub-folder's name clashes in the parent.
    """
    if folder.parent_id is None:
        raise FolderError(N_("The top folder cannot be deleted."))
    children = session.scalars(select(Folder).where(Folder.parent_id == folder.id)).all()
    has_jobs = session.scalar(select(Job.id).where(Job.folder_id == folder.id).limit(1))
    if not move_contents_up and (children or has_jobs is not None):
        raise FolderError(
            N_("“%(name)s” is not empty: move its contents up or delete them first."),
            name=folder.name,
        )
    parent = session.get_one(Folder, folder.parent_id)
    if children:
        sibling_names = {
            name.lower() for name in session.scalars(
                select(Folder.name).where(Folder.parent_id == parent.id, Folder.id != folder.id)
            )
        }
        clashes = sorted(child.name for child in children if child.name.lower() in sibling_names)
        if clashes:
            raise FolderError(
                N_("“%(parent)s” already has a folder called “%(name)s”: rename one of them first."),
                parent=parent.name, name=clashes[0],
            )
    for child in children:
        move_folder(session, child, parent)
    session.execute(
        update(Job)
        .where(Job.folder_id == folder.id)
        .values(folder_id=parent.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(FolderPath)
        .where(FolderPath.descendant_id == folder.id)
        .execution_options(synchronize_session=False)
    )
    session.delete(folder)
    session.flush()
    logger.info("folder %s deleted (user %s)", folder.id, folder.user_id)


# The folder page's statements, built once (building one costs as much as running it).
_ANCESTORS = (
    select(Folder)
    .join(FolderPath, FolderPath.ancestor_id == Folder.id)
    .where(FolderPath.descendant_id == bindparam("folder_id"))
    .order_by(FolderPath.depth.desc())
)
# The path down to a folder and its children at once: a child is no ancestor, so each folder
# comes once, an ancestor with its depth, a child with none. Plain rows: the page only links
# to them.
_SURROUNDINGS = (
    select(Folder.id, Folder.name, FolderPath.depth)
    .outerjoin(FolderPath, and_(FolderPath.ancestor_id == Folder.id,
                                FolderPath.descendant_id == bindparam("folder_id")))
    .where(Folder.id.in_(
        union_all(
            select(FolderPath.ancestor_id).where(FolderPath.descendant_id == bindparam("folder_id")),
            select(Folder.id).where(Folder.parent_id == bindparam("folder_id")),
        )
    ))
)


def ancestors(session: Session, folder: Folder) -> Sequence[Folder]:
    """The folder's path from the root down to itself, in one query (breadcrumbs)."""
    return session.scalars(_ANCESTORS, {"folder_id": folder.id}).all()


class FolderLink(NamedTuple):
    id: int
    name: str


def surroundings(session: Session, folder: Folder) -> tuple[list[FolderLink], list[FolderLink]]:
    """The folder's path from the root down to itself, and its children by name: one query
    for what the folder page shows around its jobs."""
    path: list[tuple[int, FolderLink]] = []
    children: list[FolderLink] = []
    session.flush()
    for folder_id, name, depth in session.connection().execute(_SURROUNDINGS, {"folder_id": folder.id}):
        if depth is None:
            children.append(FolderLink(folder_id, name))
        else:
            path.append((depth, FolderLink(folder_id, name)))
    path.sort(key=lambda pair: -pair[0])
    children.sort(key=lambda child: (child.name.lower(), child.id))
    return [link for _, link in path], children


def descendants(session: Session, folder: Folder, *, include_self: bool = False) -> Sequence[Folder]:
    """Every folder below `folder`, nearest first, in one query."""
    stmt = (
        select(Folder)
        .join(FolderPath, FolderPath.descendant_id == Folder.id)
        .where(FolderPath.ancestor_id == folder.id)
        .order_by(FolderPath.depth, Folder.name)
    )
    if not include_self:
        stmt = stmt.where(FolderPath.depth > 0)
    return session.scalars(stmt).all()


def folder_tree(session: Session, user: User) -> list[tuple[Folder, int]]:
    """All the user's folders with their depth, in tree order, for pickers (one query)."""
    root = root_folder(session, user)
    depth = FolderPath.depth
    rows = session.execute(
        select(Folder, depth)
        .join(FolderPath, and_(FolderPath.descendant_id == Folder.id, FolderPath.ancestor_id == root.id))
        .order_by(depth, Folder.name)
    ).all()
    children: dict[int | None, list[Folder]] = {}
    depths: dict[int, int] = {}
    for folder, level in rows:
        children.setdefault(folder.parent_id, []).append(folder)
        depths[folder.id] = level
    ordered: list[tuple[Folder, int]] = []

    def walk(parent_id: int | None) -> None:
        for child in sorted(children.get(parent_id, []), key=lambda f: f.name.lower()):
            ordered.append((child, depths[child.id]))
            walk(child.id)

    walk(None)
    return ordered


def subtree_ids(session: Session, folder: Folder) -> set[int]:
    """The ids of `folder` and everything below it (where it may not move)."""
    stmt = select(FolderPath.descendant_id).where(FolderPath.ancestor_id == folder.id)
    return set(session.scalars(stmt))
