"""The dashboard's counters: the user's root folder, folders, jobs, logins and accounts."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    func,
    select,
)
from sqlalchemy.orm import Session

from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.models import (
    ClientAccount,
    Folder,
    Job,
    ServiceAccount,
    User,
)


@dataclass(frozen=True)
class DashboardSummary:
    root_folder_id: int
    folders: int
    jobs: int
    enabled_jobs: int
    service_accounts: int
    client_accounts: int


@functools.cache
def _summary_statement() -> Any:
    """The statement of `dashboard_summary` (bound `user_id`), built once."""
    user_id = bindparam("user_id", type_=Integer)

    def count(model: type, *where: object) -> Any:
        return (select(func.count()).select_from(model).where(model.owned_by(user_id), *where)
                .scalar_subquery())

    root = (select(Folder.id).where(Folder.user_id == user_id, Folder.parent_id.is_(None))
            .scalar_subquery())
    return select(root, count(Folder), count(Job), count(Job, Job.is_enabled.is_(True)),
                  count(ServiceAccount), count(ClientAccount))


def dashboard_summary(session: Session, user: User) -> DashboardSummary:
    """The root folder and counts of the user's things, in one statement (a subquery each)."""
    root_id, folders, jobs, enabled_jobs, service_accounts, client_accounts = (
        session.connection().execute(_summary_statement(), {"user_id": user.id}).one())
    if root_id is None:  # created on first use
        root_id = root_folder(session, user).id
        folders = (folders or 0) + 1
    return DashboardSummary(
        root_folder_id=root_id,
        folders=(folders or 0) - 1,
        jobs=jobs or 0,
        enabled_jobs=enabled_jobs or 0,
        service_accounts=service_accounts or 0,
        client_accounts=client_accounts or 0,
    )
