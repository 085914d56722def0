"""The job lists of the folder pages: one folder, everything below one, search.

Each list is one query whatever its size: the page of jobs with their definitions, account
counts, tags, (where shown) folder paths, and the list's total. Search counts nothing: it reads
one row past the page to know whether another follows, so a common word costs no more than
a rare one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Select, Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.db import json_rows
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


class TagBadge(NamedTuple):
    name: str
    colour: str


class TagChoice(NamedTuple):
    """One of the user's job tags, as pickers and badges show it."""

    id: int
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
    """A page of a job list. A search page past which more matches follow has no total."""

    rows: list[JobRow]
    page: int
    per_page: int
    total: int | None
    # The user's job tags by name: the page's badges, its tag filter and its bulk bar.
    tags: tuple[TagChoice, ...] = ()

    @property
    def pages(self) -> int:
        if self.total is None:
            return self.page + 1
        return super().pages


# What a list row shows.
_LISTED = (Job.id, Job.name, Job.folder_id, Job.schedule_kind, cast(Job.schedule, Text).label("schedule"),
           Job.time_zone, Job.is_enabled, Job.next_run_at, Job.last_run_at, Job.last_run_status)
# What its Accounts cell names: the job's level and its login or client.
_LEVEL = (Job.level, Job.all_client_accounts, ServiceAccount.platform.label("login_platform"),
          ServiceAccount.name.label("login_name"), Client.name.label("client_name"))


# A list's rows repeat a handful of schedules, reports, tag sets and folders: each is worked
# out from its stored text once, not on every row of every page (the text is the key, so an
# edit is a new key, never a stale answer).
@lru_cache(maxsize=4096)
def _schedule_words(kind: ScheduleKind, params: str | None, time_zone: str, locale: str | None) -> str:
    return describe_schedule(JobSchedule(ScheduleKind(kind), json.loads(params or "{}") or {}, time_zone),
                             locale)


@lru_cache(maxsize=256)
def _report_label(task_type: str) -> str:
    try:
        return get_report_type(task_type).label
    except ReportError:
        return task_type


# A row's tag ids, and its folder's path as [depth, name] pairs: read with the row, so a page
# is one query, not one per kind of detail. The tags' names come with the user's tag list,
# which every list page loads for its pickers anyway.
_TAGS = cast(
    select(json_rows(jobs_tags.c.tag_id)).where(jobs_tags.c.job_id == Job.id).correlate(Job).scalar_subquery(),
    Text,
).label("tag_ids")
_PATH = cast(
    select(json_rows(FolderPath.depth, Folder.name))
    .select_from(FolderPath.__table__.join(Folder, Folder.id == FolderPath.ancestor_id))
    .where(FolderPath.descendant_id == Job.folder_id)
    .correlate(Job)
    .scalar_subquery(),
    Text,
).label("path")


@lru_cache(maxsize=4096)
def _tag_ids(text: str | None) -> tuple[int, ...]:
    return tuple(tag_id for (tag_id,) in json.loads(text or "[]") or ())


@lru_cache(maxsize=4096)
def _folder_path(text: str | None) -> tuple[str, ...]:
    pairs = json.loads(text or "[]") or ()
    return tuple(name for _, name in sorted(pairs, key=lambda pair: -pair[0]))


def _tag_badges(ids: tuple[int, ...], badges: dict[int, tuple[int, TagBadge]]) -> tuple[TagBadge, ...]:
    # By name, as the user's tag list is sorted. A tag made between reading the list and the
    # page (PostgreSQL reads each statement afresh) is left out until the next page.
    if not ids:
        return ()
    return tuple(badge for _, badge in sorted(badges[tag_id] for tag_id in ids if tag_id in badges))


@dataclass(frozen=True)
class _ListStatements:
    count: Select[tuple[int]]
    page: Select[Any]


@cache
def _list_statements(scope: str, tagged: bool) -> _ListStatements:
    """The count and page statements of one kind of list, with bind parameters, built once.

    Building a list's statements anew on each request cost more than SQLite took to answer
    them: each kind (one folder, everything below one, search; with a tag filter or not) is
    built once and then runs with its parameters.
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
    if scope == "folder" and not tagged:
        # Kept up to date by the database itself: no counting a large folder's jobs.
        count = select(Folder.job_count).where(Folder.id == bindparam("folder_id"))
    else:
        count = select(func.count()).select_from(matching.subquery())
    columns: list[Any] = [*_LISTED, *_LEVEL, JobDefinition.task_type,
                          accounts_read_count().label("accounts_count"), _TAGS]
    if scope != "folder":
        columns.append(_PATH)
    if scope != "search":
        # Not correlated to the row: both databases work it out once for the statement.
        columns.append(count.correlate(None).scalar_subquery().label("total"))
    # By name regardless of case, which the (folder_id | user_id, lower(name), id) indexes
    # hand over in order: a page reads its own rows, never the whole folder. The page's ids
    # come first, then what is shown for those ids alone (the account count never runs for
    # rows off the page).
    order = (func.lower(Job.name), Job.id)
    page_ids = matching.order_by(*order).limit(bindparam("limit")).offset(bindparam("offset")).subquery()
    return _ListStatements(
        count=count,
        page=(
            select(*columns)
            .join(page_ids, page_ids.c.id == Job.id)
            .join(JobDefinition, JobDefinition.id == Job.definition_id)
            .outerjoin(ServiceAccount, ServiceAccount.id == Job.service_account_id)
            .outerjoin(Client, Client.id == Job.client_id)
            .order_by(*order)
        ),
    )


def _page(session: Session, user_id: int, scope: str, params: dict[str, Any], *, tag: Tag | None,
          page: int, per_page: int, locale: str | None) -> JobPage:
    statements = _list_statements(scope, tag is not None)
    if tag is not None:
        params = params | {"tag_id": tag.id}
    counted = scope != "search"
    # A search reads one row past the page: whether it is there says if another page follows.
    limit = per_page if counted else per_page + 1
    page = max(1, page)
    # Plain rows, no ORM objects: Core runs them for a third less than the ORM session would
    # (after the flush the session would do before reading).
    session.flush()
    connection = session.connection()
    tags, badges = _tag_list(connection.scalar(_TAG_LIST, {"user_id": user_id}))

    def read(number: int) -> Sequence[Any]:
        return connection.execute(
            statements.page, params | {"limit": limit, "offset": (number - 1) * per_page}
        ).all()

    rows = read(page)
    if not rows and page > 1:
        # Past the end (an old link, a list that shrank): the last page instead.
        total = connection.scalar(statements.count, params) or 0
        page = max(1, math.ceil(total / per_page))
        rows = read(page)
    total: int | None
    if counted:
        total = rows[0].total if rows else 0
    elif len(rows) > per_page:
        rows, total = rows[:per_page], None
    else:
        total = (page - 1) * per_page + len(rows)
    with_path = scope != "folder"
    result = []
    for row in rows:
        (job_id, name, folder_id, kind, schedule, time_zone, is_enabled, next_run_at, last_run_at,
         last_run_status, level, all_client_accounts, login_platform, login_name, client_name,
         task_type, accounts_count, tag_ids) = row[:18]
        result.append(JobRow(
            job_id, name, folder_id, is_enabled, next_run_at, last_run_at, last_run_status,
            report_label=_report_label(task_type),
            schedule_words=_schedule_words(kind, schedule, time_zone, locale),
            accounts_count=accounts_count,
            accounts_label=accounts_label(
                level, all_client_accounts, accounts_count, login_platform=login_platform,
                login_name=login_name, client_name=client_name),
            tags=_tag_badges(_tag_ids(tag_ids), badges),
            folder_path=_folder_path(row.path) if with_path else (),
        ))
    return JobPage(result, page, per_page, total, tags)


def folder_jobs(
    session: Session, folder: Folder, *, tag: Tag | None = None, page: int = 1,
    per_page: int = PER_PAGE, locale: str | None = None,
) -> JobPage:
    """A page of the folder's own jobs by name, optionally only those with `tag`; schedules in
    words in `locale` (English by default), as are the other listings'."""
    return _page(session, folder.user_id, "folder", {"folder_id": folder.id}, tag=tag, page=page,
                 per_page=per_page, locale=locale)


def jobs_below(
    session: Session, folder: Folder, *, tag: Tag | None = None, page: int = 1,
    per_page: int = PER_PAGE, locale: str | None = None,
) -> JobPage:
    """A page of every job in the folder and all folders below it, with folder paths."""
    return _page(session, folder.user_id, "below", {"folder_id": folder.id, "user_id": folder.user_id},
                 tag=tag, page=page, per_page=per_page, locale=locale)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_jobs(
    session: Session, user: User, query: str, *, page: int = 1, per_page: int = PER_PAGE,
    locale: str | None = None,
) -> JobPage:
    """A page of the user's jobs whose name contains `query` (any case), with folder paths.

    Its total is known on the last page only (None before it): matches are not counted.
    """
    query = " ".join((query or "").split())
    if len(query) < SEARCH_MIN:
        return JobPage([], 1, per_page, 0)
    return _page(session, user.id, "search", {"user_id": user.id, "pattern": f"%{_escape_like(query)}%"},
                 tag=None, page=page, per_page=per_page, locale=locale)


# The user's tags in one row (a JSON list), not a row each: hundreds of rows cost more to
# fetch than to answer, and the same list comes back page after page, parsed once.
_TAG_LIST = select(cast(json_rows(Tag.id, Tag.name, Tag.colour), Text)).where(Tag.owned_by(bindparam("user_id")))


class _TagList(NamedTuple):
    choices: tuple[TagChoice, ...]
    # id: (place in the list, badge)
    badges: dict[int, tuple[int, TagBadge]]


@lru_cache(maxsize=256)
def _tag_list(text: str | None) -> _TagList:
    choices = sorted((TagChoice(*item) for item in json.loads(text or "[]") or ()),
                     key=lambda choice: (choice.name.lower(), choice.id))
    badges = {choice.id: (place, TagBadge(choice.name, choice.colour)) for place, choice in enumerate(choices)}
    return _TagList(tuple(choices), badges)


def user_tags(session: Session, user: User) -> Sequence[Tag]:
    """The user's job tags by name (filters and bulk actions)."""
    return session.scalars(
        select(Tag).where(Tag.owned_by(user.id)).order_by(func.lower(Tag.name))
    ).all()
