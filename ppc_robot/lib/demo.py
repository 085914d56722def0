"""Demo data: a user with a sandbox login, client accounts, a folder tree, tags and jobs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.folders import create_folder, root_folder
from ppc_robot.lib.jobs import create_definition, create_job
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    Job,
    JobLevel,
    OutputType,
    Platform,
    ScheduleKind,
    ServiceAccount,
    Tag,
    User,
    utcnow,
)
from ppc_robot.lib.platforms.sandbox import SANDBOX_ACCOUNTS, SANDBOX_LOGIN
from ppc_robot.lib.users import create_user, find_user_by_email

DEMO_EMAIL = "demo@ppc-robot.local"



@dataclass(frozen=True)
class DemoLogin:
    user: User
    password: str
    created: bool


def seed_demo(session: Session, *, email: str = DEMO_EMAIL) -> DemoLogin:
    """Create the demo user and his workspace; an existing demo user gets a new password."""
    password = secrets.token_urlsafe(12)
    existing = find_user_by_email(session, email)
    if existing is not None:
        from ppc_robot.lib.passwords import hash_password

        existing.password_hash = hash_password(password)
        existing.email_verified_at = existing.email_verified_at or utcnow()
        session.flush()
        return DemoLogin(existing, password, created=False)

    user = create_user(session, email, password, name="Demo Specialist", time_zone="Europe/Prague")
    # Verified from the start, so the demo can show the e-mail channel (mail goes to the outbox
    # on the embedded default).
    user.email_verified_at = utcnow()
    login = ServiceAccount(
        user_id=user.id, platform=Platform.SANDBOX, external_id=SANDBOX_LOGIN.external_id,
        name=SANDBOX_LOGIN.name, last_success_at=utcnow(), last_sync_at=utcnow(),
    )
    session.add(login)
    session.flush()
    accounts = [
        ClientAccount(
            user_id=user.id,
            service_account_id=login.id,
            external_id=remote.external_id,
            name=remote.name,
            currency=remote.currency,
            time_zone=remote.time_zone,
        )
        for remote in SANDBOX_ACCOUNTS
    ]
    session.add_all(accounts)
    acme = Client(user_id=user.id, name="Acme Shoes", currency="CZK")
    session.add(acme)
    session.flush()
    for account in accounts[:2]:
        account.client_id = acme.id

    root = root_folder(session, user)
    clients = create_folder(session, root, "Clients")
    acme_folder = create_folder(session, clients, "Acme Shoes")
    garden = create_folder(session, clients, "Garden Centre")
    internal = create_folder(session, root, "Internal")
    weekly_tag = Tag(user_id=user.id, name="weekly", colour="#0d6efd")
    key_tag = Tag(user_id=user.id, name="key account", colour="#dc3545")
    session.add_all([weekly_tag, key_tag])
    session.flush()

    shared = create_definition(
        session,
        user.id,
        "performance",
        name="Daily campaign performance",
        output_type=OutputType.XLSX,
        parameters={"date_range": "yesterday", "dimensions": ["date", "campaign"]},
    )
    for folder, account in ((acme_folder, accounts[0]), (acme_folder, accounts[1]),
                            (garden, accounts[2])):
        job = create_job(
            session,
            folder,
            shared,
            f"{account.name} — daily performance",
            schedule_kind=ScheduleKind.DAILY,
            schedule={"time": "07:00"},
            time_zone="Europe/Prague",
            tags=[key_tag] if folder is acme_folder else [],
        )
        job.client_accounts = [account]
    overview = create_definition(
        session,
        user.id,
        "performance",
        name="Weekly overview",
        parameters={"date_range": "last_7_days", "dimensions": ["client_account"]},
    )
    weekly = create_job(
        session,
        internal,
        overview,
        "All accounts — weekly overview",
        schedule_kind=ScheduleKind.WEEKLY,
        schedule={"weekdays": [0], "time": "08:00"},
        time_zone="Europe/Prague",
        tags=[weekly_tag],
    )
    weekly.level = JobLevel.SERVICE_ACCOUNT
    weekly.service_account_id = login.id
    weekly.all_client_accounts = True
    # The demo's scheduled jobs are due at once, so the worker produces their first outputs
    # within a minute of start; after that they follow their schedules.
    for job in session.scalars(select(Job).where(Job.user_id == user.id, Job.is_enabled.is_(True))):
        job.next_run_at = utcnow()
    session.flush()
    return DemoLogin(user, password, created=True)
