"""The job's level resolved to the client accounts a run reads, and the client's goals.

Pages count the same accounts through lib/jobs/levels.py: a login or client level with
`all_client_accounts` reads every account of that login or client on the platform now; any
other job reads the accounts chosen in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.jobs.levels import reads_all_of_client, reads_all_of_login
from ppc_robot.lib.models import Client, ClientAccount, ClientAccountStatus, Job, ServiceAccount
from ppc_robot.lib.platforms import RemoteAccount
from ppc_robot.lib.runner import MissingAccount, RunFailed


@dataclass(frozen=True)
class AccountToRead:
    """What a fetch thread needs, copied out of the session (threads never share one)."""

    client_account_id: int
    external_id: str
    name: str
    currency: str
    time_zone: str
    platform: str
    service_account: ServiceAccount
    platform_extra: dict[str, str] = field(default_factory=dict)  # how to reach it, from sync

    def remote(self) -> RemoteAccount:
        """The account as its platform's client addresses it."""
        return RemoteAccount(external_id=self.external_id, name=self.name, currency=self.currency,
                             time_zone=self.time_zone, extra=self.platform_extra)


@dataclass(frozen=True)
class ResolvedAccounts:
    """The accounts a run reads (by name), those it cannot, and the client whose goals apply."""

    readable: list[AccountToRead]
    missing: list[MissingAccount]
    client: Client | None


def resolve_accounts(session: Session, job_id: int) -> ResolvedAccounts:
    """The client accounts of the job's level now.

    Raises RunFailed when the job names another user's account, reads no account at all, or
    only accounts removed from their platform.
    """
    job = session.get_one(Job, job_id)
    # Every account of a login or a client means those on the platform now (an account removed
    # since is not missing, it is gone); chosen accounts that vanished are reported missing.
    live = ClientAccount.status != ClientAccountStatus.REMOVED
    if reads_all_of_login(job):
        chosen = list(session.scalars(select(ClientAccount).where(
            ClientAccount.service_account_id == job.service_account_id, live)))
    elif reads_all_of_client(job):
        chosen = list(session.scalars(select(ClientAccount).where(
            ClientAccount.client_id == job.client_id, live)))
    else:
        chosen = list(job.client_accounts)
    client = session.get(Client, job.client_id) if job.client_id else None
    if client is None:
        clients = {a.client_id for a in chosen}
        if len(clients) == 1 and None not in clients:
            client = session.get(Client, clients.pop())
    readable, missing = [], []
    for account in sorted(chosen, key=lambda a: a.name.lower()):
        if account.user_id != job.user_id:
            raise RunFailed(N_("The job names a client account that is not yours."))
        if account.status is ClientAccountStatus.REMOVED:
            missing.append(MissingAccount(account.id, account.name,
                                          "the account no longer exists on the platform"))
            continue
        readable.append(AccountToRead(account.id, account.external_id, account.name, account.currency,
                                      account.time_zone, account.service_account.platform.value,
                                      account.service_account, dict(account.platform_extra or {})))
    if not readable and not missing:
        raise RunFailed(N_("The job has no client accounts to report on; pick some in the job editor."))
    if not readable:
        raise RunFailed(N_("No client account could be read: %(accounts)s. Pick others in the job "
                           "editor.") % {"accounts": "; ".join(f"{m.name}: {m.reason}" for m in missing)})
    return ResolvedAccounts(readable, missing, client)


def goals_of(client: Client | None) -> dict[str, Decimal]:
    """The client's targets by metric (cpa, roas, pno), those it sets."""
    if client is None:
        return {}
    goals = {"cpa": client.target_cpa, "roas": client.target_roas, "pno": client.target_pno}
    return {k: v for k, v in goals.items() if v is not None}
