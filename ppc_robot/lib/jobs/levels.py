"""A job's level in words and counts: which client accounts it reads, as pages show it.

The runner resolves the level at run time (`resolve_accounts` in lib/reports/shared/accounts.py);
these functions follow the same rule: a service-account or client level with
`all_client_accounts` and its object reads every account of that login or client, anything
else reads the job's chosen accounts. Accounts removed from their platform are not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session, joinedload

from ppc_robot.lib.i18n import N_, Text, ngettext
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    ClientAccountStatus,
    Job,
    JobLevel,
    Platform,
    ServiceAccount,
    User,
    jobs_client_accounts,
)


def reads_all_of_login(job: Job) -> bool:
    """True when the job reads every account of its login (new ones found at sync included)."""
    return (job.level is JobLevel.SERVICE_ACCOUNT and job.all_client_accounts
            and job.service_account_id is not None)


def reads_all_of_client(job: Job) -> bool:
    """True when the job reads every account of its client."""
    return job.level is JobLevel.CLIENT and job.all_client_accounts and job.client_id is not None


def _live_accounts_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(ClientAccount)
        .where(condition, ClientAccount.status != ClientAccountStatus.REMOVED)
        .correlate(Job)
        .scalar_subquery()
    )


def accounts_read_count() -> ColumnElement[int]:
    """Per row of a query over Job: how many client accounts its level reads now."""
    chosen = (
        select(func.count())
        .select_from(jobs_client_accounts)
        .where(jobs_client_accounts.c.job_id == Job.id)
        .correlate(Job)
        .scalar_subquery()
    )
    every = Job.all_client_accounts.is_(True)
    return case(
        (and_(Job.level == JobLevel.SERVICE_ACCOUNT, every, Job.service_account_id.is_not(None)),
         _live_accounts_where(ClientAccount.service_account_id == Job.service_account_id)),
        (and_(Job.level == JobLevel.CLIENT, every, Job.client_id.is_not(None)),
         _live_accounts_where(ClientAccount.client_id == Job.client_id)),
        else_=chosen,
    )


ALL_OF_LOGIN = N_("All of login %(login)s (%(count)s)")
ALL_OF_CLIENT = N_("All of client %(client)s (%(count)s)")


def login_label(platform: Platform | str, name: str) -> str:
    """A login as pickers and pages name it: “Sklik – agency”."""
    return f"{Platform(platform).label} – {name}"


def accounts_label(
    level: JobLevel | str, all_client_accounts: bool, count: int, *,
    login_platform: Platform | str | None = None, login_name: str | None = None,
    client_name: str | None = None,
) -> str:
    """The Accounts cell of a job list: the count, or “All of login Sklik – agency (12)”.

    The login and client names are those of the job's service_account_id and client_id
    (None when the job has none).
    """
    level = JobLevel(level)
    if level is JobLevel.SERVICE_ACCOUNT and all_client_accounts and login_name is not None:
        assert login_platform is not None
        return Text(ALL_OF_LOGIN, login=login_label(login_platform, login_name), count=count)
    if level is JobLevel.CLIENT and all_client_accounts and client_name is not None:
        return Text(ALL_OF_CLIENT, client=client_name, count=count)
    return str(count)


@dataclass(frozen=True)
class JobAccounts:
    """What the job page shows of the job's level: a sentence and the accounts it reads now."""

    words: str
    accounts: Sequence[ClientAccount]
    is_all: bool


def accounts_of_job(session: Session, job: Job) -> JobAccounts:
    """The accounts the job reads at its level now, by name, with their logins (one query)."""
    if reads_all_of_login(job):
        login = session.get_one(ServiceAccount, job.service_account_id)
        accounts = _live_accounts(session, ClientAccount.service_account_id == login.id)
        words = Text(ALL_OF_LOGIN, login=login_label(login.platform, login.name),
                     count=len(accounts))
        return JobAccounts(words, accounts, True)
    if reads_all_of_client(job):
        client = session.get_one(Client, job.client_id)
        accounts = _live_accounts(session, ClientAccount.client_id == client.id)
        return JobAccounts(Text(ALL_OF_CLIENT, client=client.name, count=len(accounts)),
                           accounts, True)
    chosen = sorted(job.client_accounts, key=lambda a: (a.name.lower(), a.id))
    count = len(chosen)
    words = ngettext("%(count)s chosen client account", "%(count)s chosen client accounts", count)
    return JobAccounts(words, chosen, False)


NO_ACCOUNTS_WARNING = Text(N_(
    "This job reads no client account, so it fails when it runs. Choose client accounts, "
    "or a login or client that has some."))


def accounts_warning(job_accounts: JobAccounts) -> str | None:
    """What to tell the user when the job reads no client account (live ones only)."""
    live = [a for a in job_accounts.accounts if a.status is not ClientAccountStatus.REMOVED]
    return None if live else NO_ACCOUNTS_WARNING


def _live_accounts(session: Session, condition: ColumnElement[bool]) -> list[ClientAccount]:
    stmt = (
        select(ClientAccount)
        .where(condition, ClientAccount.status != ClientAccountStatus.REMOVED)
        .options(joinedload(ClientAccount.service_account))
        .order_by(func.lower(ClientAccount.name), ClientAccount.id)
    )
    return list(session.scalars(stmt))


def _with_live_accounts(session: Session, model: Any, link: ColumnElement[bool], user: User,
                        *order: Any) -> list[tuple[Any, int]]:
    """The user's rows of `model` with how many client accounts (not removed) each has now."""
    stmt = (
        select(model, func.count(ClientAccount.id))
        .outerjoin(ClientAccount, and_(link, ClientAccount.status != ClientAccountStatus.REMOVED))
        .where(model.owned_by(user.id))
        .group_by(model.id)
        .order_by(*order, model.id)
    )
    return [(row, count) for row, count in session.execute(stmt)]


def login_choices(session: Session, user: User) -> list[tuple[ServiceAccount, int]]:
    """The user's logins with how many client accounts each has now (the level picker)."""
    return _with_live_accounts(session, ServiceAccount,
                               ClientAccount.service_account_id == ServiceAccount.id, user,
                               ServiceAccount.platform, func.lower(ServiceAccount.name))


def client_choices(session: Session, user: User) -> list[tuple[Client, int]]:
    """The user's clients with how many client accounts each has now (the level picker)."""
    return _with_live_accounts(session, Client, ClientAccount.client_id == Client.id, user,
                               func.lower(Client.name))
