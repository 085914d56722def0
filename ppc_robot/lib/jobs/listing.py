"""The job lists of the folder pages: one folder, everything below one, search.

Each list costs the same few queries whatever its size: a count, the page of jobs with
their definitions and account counts, their tags, and (where shown) the folder paths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, bindparam, func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.jobs.levels import accounts_label, accounts_read_count
from ppc_robot.lib.models import (
    Client,
    Folder,
    FolderPath,
    Job,
    JobDefinition,
    RunStatus,
    ScheduleKind,
    ServiceAccount,
    Tag,
    User,
    jobs_tags,
)
from ppc_robot.lib.pagination import PageNumbers
from ppc_robot.lib.reports import ReportError, get_report_type
from ppc_robot.lib.schedules import JobSchedule, describe_schedule

PER_PAGE = 50
SEARCH_MIN = 2
# Search counts its matches up to here and says "more than" beyond: a count of every match
# would read every job of a large account on each page, and ten pages of matches are more
# than anyone reads before narrowing the search.
SEARCH_COUNT_CAP = 500


class TagBadge(NamedTuple):
    name: str
    colour: str


class JobRow(NamedTuple):
    """One line of a job list, with everything the template shows already worked out.

    Plain values, not ORM objects, in a named tuple: a list page builds fifty of these on
    every request, and a frozen dataclass took five times as long to make.
    """

    id: int
    name: str
    folder_id: int
    is_enabled: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_run_status: RunStatus | None
    report_label: str
    schedule_words: str
    accounts_count: int
    accounts_label: str = ""
    tags: tuple[TagBadge, ...] = ()
    folder_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobPage(PageNumbers):
    rows: list[JobRow]
    page: int
    per_page: int
    total: int
    is_total_capped: bool = False


# What a list row shows.
_LISTED = (Job.id, Job.name, Job.folder_id, Job.schedule_kind, Job.schedule, Job.time_zone,
           Job.is_enabled, Job.next_run_at, Job.last_run_at, Job.last_run_status)
# What its Accounts cell names: the job's level and its login or client.
_LEVEL = (Job.level, Job.all_client_accounts, ServiceAccount.platform.label("login_platform"),
          ServiceAccount.name.label("login_name"), Client.name.label("client_name"))


def _schedule_words(kind: ScheduleKind, params: dict[str, Any], time_zone: str) -> str:
    return describe_schedule(JobSchedule(ScheduleKind(kind), params or {}, time_zone))


_TAG_BADGES = (
    select(jobs_tags.c.job_id, Tag.name, Tag.colour)
    .join(Tag, Tag.id == jobs_tags.c.tag_id)
    .where(jobs_tags.c.job_id.in_(bindparam("job_ids", expanding=True)))
    .order_by(func.lower(Tag.name))
)


def _tag_badges(connection: Connection, job_ids: list[int]) -> dict[int, list[TagBadge]]:
    """The tags of these jobs by name, in one query (none for an empty page)."""
    if not job_ids:
        return {}
    badges: dict[int, list[TagBadge]] = {}
    for job_id, name, colour in connection.execute(_TAG_BADGES, {"job_ids": job_ids}):
        badges.setdefault(job_id, []).append(TagBadge(name, colour))
    return badges


def _report_label(task_type: str) -> str:
    try:
        return get_report_type(task_type).label
    except ReportError:
        return task_type


_FOLDER_PATHS = (
    select(FolderPath.descendant_id, Folder.name)
    .join(Folder, Folder.id == FolderPath.ancestor_id)
    .where(FolderPath.descendant_id.in_(bindparam("folder_ids", expanding=True)))
    .order_by(FolderPath.descendant_id, FolderPath.depth.desc())
)


def _folder_paths(connection: Connection, folder_ids: set[int]) -> dict[int, tuple[str, ...]]:
    """Each folder's names from the root down, for all the folders in one query."""
    if not folder_ids:
        return {}
    paths: dict[int, list[str]] = {}
    for folder_id, name in connection.execute(_FOLDER_PATHS, {"folder_ids": list(folder_ids)}):
        paths.setdefault(folder_id, []).append(name)
    return {folder_id: tuple(names) for folder_id, names in paths.items()}


@dataclass(frozen=True)
class _ListStatements:
    count: Select[tuple[int]]
    page: Select[Any]


@cache
def _list_statements(scope: str, tagged: bool, capped: bool) -> _ListStatements:
    """The count and page statements of one kind of list, with bind parameters, built once.

    Building a list's four statements anew on each request cost more than SQLite took to
    answer them: each kind (one folder, everything below one, search; with a tag filter or
    not) is built once and then runs with its parameters.
    """
    if scope == "folder":
        where = [Job.folder_id == bindparam("folder_id")]
    elif scope == "below":
        subtree = select(FolderPath.descendant_id).where(FolderPath.ancestor_id == bindparam("folder_id"))
        where = [Job.user_id == bindparam("user_id"), Job.folder_id.in_(subtree)]
    else:
        # lower() on both sides, in SQL: the (user_id, lower(name), id) index then holds all
        # the filter reads, walked in the order the page is shown, stopping after a page.
        where = [Job.user_id == bindparam("user_id"),
                 func.lower(Job.name).like(func.lower(bindparam("pattern")), escape="\\")]
    if tagged:
        where.append(Job.id.in_(select(jobs_tags.c.job_id).where(jobs_tags.c.tag_id == bindparam("tag_id"))))
    matching = select(Job.id).where(*where)
    accounts = accounts_read_count().label("accounts_count")
    # By name regardless of case, which the (folder_id | user_id, lower(name), id) indexes
    # hand over in order: a page reads its own rows, never the whole folder. The page's ids
    # come first, then what is shown for those ids alone (the account count never runs for
    # rows off the page).
    order = (func.lower(Job.name), Job.id)
    page_ids = matching.order_by(*order).limit(bindparam("limit")).offset(bindparam("offset")).subquery()
    return _ListStatements(
        # A capped count reads up to its limit; an uncapped one has none (a LIMIT, even a
        # huge one, keeps SQLite from counting straight off the index).
        count=select(func.count()).select_from(
            (matching.limit(bindparam("count_limit")) if capped else matching).subquery()),
        page=(
            select(*_LISTED, *_LEVEL, JobDefinition.task_type, accounts)
            .join(page_ids, page_ids.c.id == Job.id)
            .join(JobDefinition, JobDefinition.id == Job.definition_id)
            .outerjoin(ServiceAccount, ServiceAccount.id == Job.service_account_id)
            .outerjoin(Client, Client.id == Job.client_id)
            .order_by(*order)
        ),
    )


def _page(
    session: Session, scope: str, params: dict[str, Any], *, tag: Tag | None, page: int,
    per_page: int, with_paths: bool, count_cap: int | None = None,
) -> JobPage:
    statements = _list_statements(scope, tag is not None, count_cap is not None)
    if tag is not None:
        params = params | {"tag_id": tag.id}
    page = max(1, page)
    # Plain rows, no ORM objects: Core runs them for a third less than the ORM session would
    # (after the flush the session would do before reading).
    session.flush()
    connection = session.connection()
    counting = params if count_cap is None else params | {"count_limit": count_cap + 1}
    total = connection.scalar(statements.count, counting) or 0
    capped = count_cap is not None and total > count_cap
    if total and (page - 1) * per_page >= total:
        # Past the end (an old link, a list that shrank): the last page instead.
        page = max(1, math.ceil(total / per_page))
    rows = connection.execute(
        statements.page, params | {"limit": per_page, "offset": (page - 1) * per_page}
    ).all()
    badges = _tag_badges(connection, [row.id for row in rows])
    paths = _folder_paths(connection, {row.folder_id for row in rows}) if with_paths else {}
    result = [
        JobRow(
            id=row.id,
            name=row.name,
            folder_id=row.folder_id,
            is_enabled=row.is_enabled,
            next_run_at=row.next_run_at,
            last_run_at=row.last_run_at,
            last_run_status=row.last_run_status,
            report_label=_report_label(row.task_type),
            schedule_words=_schedule_words(row.schedule_kind, row.schedule, row.time_zone),
            accounts_count=row.accounts_count,
            accounts_label=accounts_label(
                row.level, row.all_client_accounts, row.accounts_count,
                login_platform=row.login_platform, login_name=row.login_name,
                client_name=row.client_name),
            tags=tuple(badges.get(row.id, ())),
            folder_path=paths.get(row.folder_id, ()),
        )
        for row in rows
    ]
    return JobPage(result, page, per_page, total, capped)


def folder_jobs(
    session: Session, folder: Folder, *, tag: Tag | None = None, page: int = 1,
    per_page: int = PER_PAGE,
) -> JobPage:
    """A page of the folder's own jobs by name, optionally only those with `tag`."""
    return _page(session, "folder", {"folder_id": folder.id}, tag=tag, page=page,
                 per_page=per_page, with_paths=False)


def jobs_below(
    session: Session, folder: Folder, *, tag: Tag | None = None, page: int = 1,
    per_page: int = PER_PAGE,
) -> JobPage:
    """A page of every job in the folder and all folders below it, with folder paths."""
    return _page(session, "below", {"folder_id": folder.id, "user_id": folder.user_id}, tag=tag,
                 page=page, per_page=per_page, with_paths=True)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_jobs(
    session: Session, user: User, query: str, *, page: int = 1, per_page: int = PER_PAGE
) -> JobPage:
    """A page of the user's jobs whose name contains `query` (any case), with folder paths."""
    query = " ".join((query or "").split())
    if len(query) < SEARCH_MIN:
        return JobPage([], 1, per_page, 0)
    return _page(session, "search", {"user_id": user.id, "pattern": f"%{_escape_like(query)}%"},
                 tag=None, page=page, per_page=per_page, with_paths=True, count_cap=SEARCH_COUNT_CAP)


_TAG_CHOICES = (
    select(Tag.id, Tag.name).where(Tag.owned_by(bindparam("user_id"))).order_by(func.lower(Tag.name))
)


def tag_choices(session: Session, user: User) -> list[tuple[int, str]]:
    """The user's job tags as (id, name) by name: filters and bulk bars need no more."""
    rows = session.execute(_TAG_CHOICES, {"user_id": user.id}).all()
    return [(tag_id, name) for tag_id, name in rows]


def user_tags(session: Session, user: User) -> Sequence[Tag]:
    """The user's job tags by name (filters and bulk actions)."""
    return session.scalars(
        select(Tag).where(Tag.owned_by(user.id)).order_by(func.lower(Tag.name))
    ).all()
