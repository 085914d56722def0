"""What the dashboard shows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.models import ClientAccount, Folder, Job, ServiceAccount, User


@dataclass(frozen=True)
class DashboardSummary:
    root_folder_id: int
    folders: int
    jobs: int
    enabled_jobs: int
    service_accounts: int
    client_accounts: int


def dashboard_summary(session: Session, user: User) -> DashboardSummary:
    """Counts of the user's things, in one query each."""

    def count(model: type, *where: object) -> int:
        stmt = select(func.count()).select_from(model).where(model.owned_by(user.id), *where)
        return session.scalar(stmt) or 0

    return DashboardSummary(
        root_folder_id=root_folder(session, user).id,
        folders=count(Folder) - 1,
        jobs=count(Job),
        enabled_jobs=count(Job, Job.is_enabled.is_(True)),
        service_accounts=count(ServiceAccount),
        client_accounts=count(ClientAccount),
    )
