"""The user's folder tree, kept as an adjacency list plus a closure table."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from ppc_robot.lib.models.base import (
    Base,
    Owned,
    OwnedByUser,
    UtcDateTime,
    unique_name_index,
    utcnow,
)

if TYPE_CHECKING:
    from ppc_robot.lib.models.jobs import Job

FOLDER_NAME_MAX = 100
ROOT_FOLDER_NAME = "Home"


class Folder(Base, OwnedByUser):
    """A folder of jobs; the root has no parent and every user has exactly one."""

    __tablename__ = "robot_folders"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        unique_name_index("robot_folders", "parent_id"),
        Index(
            "uq_robot_folders_root_per_user",
            "user_id",
            unique=True,
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
    )

    # Deleting a folder that still has children is refused by the key (NO ACTION); lib
    # moves or removes the contents first. A user's deletion removes the whole tree at once.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("robot_folders.id"))
    name: Mapped[str] = mapped_column(String(FOLDER_NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # How many jobs the folder holds itself, kept by triggers on robot_jobs (see
    # models/jobs.py) whatever inserts, moves or deletes them: a page of a 10,000-job folder
    # says how many pages follow without counting them. Read it from the database, not from
    # an object loaded before its jobs changed.
    job_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    parent: Mapped[Folder | None] = relationship(remote_side="Folder.id")
    jobs: Mapped[list[Job]] = relationship(back_populates="folder", viewonly=True)

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    def __repr__(self) -> str:
        return f"<Folder {self.id} {self.name!r}>"


class FolderPath(Base, Owned):
    """One (ancestor, descendant) pair of the closure table, itself included at depth 0."""

    __tablename__ = "robot_folder_paths"
    __table_args__ = (Index("ix_robot_folder_paths_descendant_depth", "descendant_id", "depth"),)

    ancestor_id: Mapped[int] = mapped_column(
        ForeignKey("robot_folders.id", ondelete="CASCADE"), primary_key=True
    )
    descendant_id: Mapped[int] = mapped_column(
        ForeignKey("robot_folders.id", ondelete="CASCADE"), primary_key=True
    )
    depth: Mapped[int] = mapped_column(Integer)

    @classmethod
    def owned_by(cls, user_id: int) -> ColumnElement[bool]:
        from sqlalchemy import select

        return cls.descendant_id.in_(select(Folder.id).where(Folder.user_id == user_id))
