"""make_<thing>(session, …, **overrides): valid objects, flushed (tests commit when they need to)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from ppc_robot.lib.folders import create_folder, root_folder
from ppc_robot.lib.jobs import create_definition, create_job
from ppc_robot.lib.models import (
    Channel,
    Client,
    ClientAccount,
    ClientAccountTag,
    Folder,
    Job,
    JobDefinition,
    JobRun,
    Notification,
    NotificationChannelSetting,
    NotificationDelivery,
    NotificationLevel,
    NotificationSnooze,
    OutputDelivery,
    Platform,
    ServiceAccount,
    Tag,
    User,
    utcnow,
)
from ppc_robot.lib.users import create_user
from ppc_robot.web.models import Invite, Plan

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_user(session: Session, **overrides: Any) -> User:
    n = next(_counter)
    options = {"email": f"user{n}@example.test", "password": PASSWORD, "name": f"User {n}"}
    options.update(overrides)
    return create_user(session, options.pop("email"), options.pop("password"), **options)


def make_folder(session: Session, parent: Folder, name: str | None = None) -> Folder:
    return create_folder(session, parent, name or f"Folder {next(_counter)}")


def make_tag(session: Session, user: User, **overrides: Any) -> Tag:
    overrides.setdefault("name", f"tag {next(_counter)}")
    tag = Tag(user_id=user.id, **overrides)
    session.add(tag)
    session.flush()
    return tag


def make_definition(session: Session, user: User, **overrides: Any) -> JobDefinition:
    overrides.setdefault("parameters", {"date_range": "yesterday"})
    return create_definition(session, user.id, overrides.pop("task_type", "performance"), **overrides)


def make_job(session: Session, user: User, folder: Folder | None = None, **overrides: Any) -> Job:
    folder = folder or root_folder(session, user)
    definition = overrides.pop("definition", None) or make_definition(session, user)
    name = overrides.pop("name", f"Job {next(_counter)}")
    return create_job(session, folder, definition, name, **overrides)


def make_service_account(session: Session, user: User, **overrides: Any) -> ServiceAccount:
    n = next(_counter)
    options = {"platform": Platform.SANDBOX, "external_id": f"sa-{n}", "name": f"Login {n}"}
    options.update(overrides)
    account = ServiceAccount(user_id=user.id, **options)
    session.add(account)
    session.flush()
    return account


def make_client_account(
    session: Session, service_account: ServiceAccount, **overrides: Any
) -> ClientAccount:
    n = next(_counter)
    options = {"external_id": f"ca-{n}", "name": f"Account {n}", "currency": "CZK"}
    options.update(overrides)
    account = ClientAccount(
        user_id=service_account.user_id, service_account_id=service_account.id, **options
    )
    session.add(account)
    session.flush()
    return account


@dataclass
class Workspace:
    """One of every object kind a user can own, for sweeps and "the other one cannot" tests."""

    user: User
    root: Folder
    folder: Folder
    subfolder: Folder
    tag: Tag
    definition: JobDefinition
    job: Job
    service_account: ServiceAccount
    client_account: ClientAccount
    client_account_tag: ClientAccountTag
    client: Client
    run: JobRun
    notification: Notification
    channel: NotificationChannelSetting
    delivery: NotificationDelivery
    snooze: NotificationSnooze
    plan: Plan
    invite: Invite
    output_delivery: OutputDelivery

    def ids(self) -> dict[str, int]:
        """Object ids by the URL argument names that address them."""
        return {
            "user_id": self.user.id,
            "folder_id": self.folder.id,
            "parent_id": self.folder.id,
            "tag_id": self.tag.id,
            "definition_id": self.definition.id,
            "job_id": self.job.id,
            "service_account_id": self.service_account.id,
            "client_account_id": self.client_account.id,
            "client_account_tag_id": self.client_account_tag.id,
            "client_id": self.client.id,
            "run_id": self.run.id,
            "notification_id": self.notification.id,
            "channel_id": self.channel.id,
            "delivery_id": self.delivery.id,
            "snooze_id": self.snooze.id,
            "plan_id": self.plan.id,
            "invite_id": self.invite.id,
            "output_delivery_id": self.output_delivery.id,
        }


def make_workspace(session: Session, **user_overrides: Any) -> Workspace:
    user = make_user(session, **user_overrides)
    root = root_folder(session, user)
    folder = make_folder(session, root, "Clients")
    subfolder = make_folder(session, folder, "Acme")
    tag = make_tag(session, user)
    service_account = make_service_account(session, user)
    client_account = make_client_account(session, service_account)
    client_account_tag = ClientAccountTag(user_id=user.id, name="e-shop")
    client = Client(user_id=user.id, name="Acme")
    session.add_all([client_account_tag, client])
    session.flush()
    client_account.tags = [client_account_tag]
    client_account.client_id = client.id
    job = make_job(session, user, subfolder, tags=[tag])
    job.client_accounts = [client_account]
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=utcnow())
    notification = Notification(
        user_id=user.id,
        job_id=job.id,
        level=NotificationLevel.ERROR,
        category=1,
        code=0,
        message_template="Report {job} failed.",
        message_params={"job": job.name},
        dedup_key=f"job-failed:{job.id}",
    )
    channel = NotificationChannelSetting(user_id=user.id, channel=Channel.EMAIL)
    session.add_all([run, notification, channel])
    session.flush()
    delivery = NotificationDelivery(notification_id=notification.id, channel=Channel.EMAIL)
    snooze = NotificationSnooze(
        user_id=user.id, category=1, code=0, job_id=job.id, until=utcnow() + timedelta(days=1)
    )
    session.add_all([delivery, snooze])
    plan = make_plan(session)
    invite = make_invite(session, user)
    output_delivery = OutputDelivery(user_id=user.id, run_id=run.id, recipient=user.email)
    session.add(output_delivery)
    session.flush()
    return Workspace(
        user, root, folder, subfolder, tag, job.definition, job, service_account,
        client_account, client_account_tag, client, run, notification, channel, delivery, snooze,
        plan, invite, output_delivery=output_delivery,
    )


def make_plan(session: Session, **overrides: Any) -> Plan:
    options: dict[str, Any] = {"name": f"Plan {next(_counter)}", "max_jobs": None,
                               "max_client_accounts": None, "max_invites": 0}
    options.update(overrides)
    plan = Plan(**options)
    session.add(plan)
    session.flush()
    return plan


def make_invite(session: Session, inviter: User, **overrides: Any) -> Invite:
    """A pending invite sent by `inviter` (its token is random and unknown to the test)."""
    import hashlib
    import secrets

    options: dict[str, Any] = {
        "email": f"invitee{next(_counter)}@example.test",
        "token_hash": hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
        "expires_at": utcnow() + timedelta(days=7),
        "sent_count": 1,
    }
    options.update(overrides)
    invite = Invite(invited_by_id=inviter.id, **options)
    session.add(invite)
    session.flush()
    return invite
