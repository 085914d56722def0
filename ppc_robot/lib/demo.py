"""Demo data: a user with a sandbox login, client accounts, a folder tree, tags and jobs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.alerts.restatements import record_coverage
from ppc_robot.lib.folders import create_folder, root_folder
from ppc_robot.lib.jobs import create_definition, create_job
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    Folder,
    Job,
    JobLevel,
    JobRun,
    OutputType,
    Platform,
    RunStatus,
    ScheduleKind,
    ServiceAccount,
    Tag,
    User,
    utcnow,
)
from ppc_robot.lib.platforms import ReportRequest
from ppc_robot.lib.platforms.sandbox import (
    ALERTS_ACCOUNT,
    SANDBOX_ACCOUNTS,
    SANDBOX_LOGIN,
    SandboxClient,
)
from ppc_robot.lib.stats import AccountRef, store_days
from ppc_robot.lib.stats.schedule import add_months, zone_of
from ppc_robot.lib.users import create_user, find_user_by_email

DEMO_EMAIL = "demo@ppc-robot.local"



# The demo's clients: (name, currency, Sandbox account, pace against the budget, targets).
# Budgets follow this month's Sandbox spend, so one client overspends (its spend runs at 130 %
# of the budget's pace), one underspends (65 %) and one is on target; the targets sit beside
# the accounts' own recent figures (one met, one missed).
DEMO_CLIENTS = (
    ("Acme Shoes", "CZK", "sandbox-1001", Decimal("1.30"), {"target_cpa": Decimal("1.25")}),
    ("Garden Centre Brno", "CZK", "sandbox-1003", Decimal("0.65"),
     {"target_roas": Decimal("1.30")}),
    ("Bike Rental Vienna", "EUR", "sandbox-1004", Decimal("1.00"),
     {"target_pno": Decimal("0.90")}),
)


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
        set_demo_goals(session, existing, utcnow())  # this month's budgets, on every start
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
    session.flush()
    set_demo_goals(session, user, utcnow())

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
    # The morning view as a file: every account of the login, budgets paced per client, with
    # the budget and target notifications on (the demo's clients are over, under and on target).
    accounts_overview = create_definition(
        session,
        user.id,
        "accounts_overview",
        name="Accounts overview",
        output_type=OutputType.XLSX,
        parameters={"notifications": True, "target_days": 3},
    )
    daily_overview = create_job(
        session,
        internal,
        accounts_overview,
        "All accounts — daily overview",
        schedule_kind=ScheduleKind.DAILY,
        schedule={"time": "06:30"},
        time_zone="Europe/Prague",
        tags=[key_tag],
    )
    daily_overview.level = JobLevel.SERVICE_ACCOUNT
    daily_overview.service_account_id = login.id
    daily_overview.all_client_accounts = True
    seed_alerts_demo(session, user, login, internal)
    add_url_checker_demo(session, user, login, internal)
    # Custom alert rules on the store: the demo's clients' targets sit beside their own
    # figures of the last 7 days (set_demo_goals), so the garden centre's ROAS and the bike
    # rental's PNO miss theirs and each raises a "Custom rules" notification.
    rules = create_definition(
        session,
        user.id,
        "alert_rules",
        version=2,
        name="Targets missed this week",
        output_type=OutputType.XLSX,
        parameters={"rules": [
            {"name": name, "level": "account", "period": "last_7_days",
             "min_metric": "clicks", "min_value": "10",
             "conditions": [{"metric": metric, "comparison": "worse_than_target", "value": None}]}
            for name, metric in (("ROAS below the client's target", "roas"),
                                 ("PNO above the client's target", "pno"),
                                 ("CPA above the client's target", "cpa"))]},
    )
    rules_job = create_job(
        session,
        internal,
        rules,
        "All accounts — alert rules",
        schedule_kind=ScheduleKind.DAILY,
        schedule={"time": "06:45"},
        time_zone="Europe/Prague",
    )
    rules_job.level = JobLevel.SERVICE_ACCOUNT
    rules_job.service_account_id = login.id
    rules_job.all_client_accounts = True
    # The demo's scheduled jobs are due at once, so the worker produces their first outputs
    # within a minute of start; after that they follow their schedules.
    for job in session.scalars(select(Job).where(Job.user_id == user.id, Job.is_enabled.is_(True))):
        job.next_run_at = utcnow()
    session.flush()
    return DemoLogin(user, password, created=True)


def _sandbox_totals(external_id: str, first: date, last: date) -> tuple[Decimal, Decimal, Decimal]:
    """Cost, conversions and conversion value of a Sandbox account over the days."""
    remote = next(a for a in SANDBOX_ACCOUNTS if a.external_id == external_id)
    cost = conversions = value = Decimal(0)
    for row in SandboxClient().fetch_report(ReportRequest(remote, first, last, ("date",))):
        cost += row.cost
        conversions += row.conversions
        value += row.conversion_value
    return cost, conversions, value


def month_forecast(external_id: str, today: date) -> Decimal:
    """The account's spend this month at its month-to-date pace (yesterday's, linearly), as a
    pacing view forecasts it; on the 1st, the whole month's Sandbox spend."""
    first = today.replace(day=1)
    month_days = (add_months(first, 1) - first).days
    if today.day == 1:
        return _sandbox_totals(external_id, first, add_months(first, 1) - timedelta(days=1))[0]
    spent = _sandbox_totals(external_id, first, today - timedelta(days=1))[0]
    return spent * month_days / (today.day - 1)


def set_demo_goals(session: Session, user: User, now: datetime) -> list[Client]:
    """Give the demo's clients their accounts, this month's budgets and their targets."""
    accounts = {a.external_id: a for a in session.scalars(
        select(ClientAccount).where(ClientAccount.user_id == user.id))}
    clients = []
    for name, currency, external_id, pace, targets in DEMO_CLIENTS:
        account = accounts.get(external_id)
        if account is None:
            continue
        client = session.scalar(select(Client).where(Client.user_id == user.id,
                                                     Client.name == name))
        if client is None:
            client = Client(user_id=user.id, name=name, currency=currency)
            session.add(client)
            session.flush()
        today = now.astimezone(zone_of(account.time_zone)).date()
        client.monthly_budget = (month_forecast(external_id, today) / pace).quantize(Decimal("1"))
        client.pacing_tolerance = Decimal(10)
        cost, conversions, value = _sandbox_totals(external_id, today - timedelta(days=7),
                                                   today - timedelta(days=1))
        if "target_cpa" in targets and conversions:
            client.target_cpa = (cost / conversions * targets["target_cpa"]).quantize(
                Decimal("0.01"))
        if "target_roas" in targets and cost:
            client.target_roas = (value / cost * targets["target_roas"]).quantize(
                Decimal("0.01"))
        if "target_pno" in targets and value:
            client.target_pno = (cost / value * targets["target_pno"]).quantize(Decimal("0.0001"))
        account.client_id = client.id
        clients.append(client)
    session.flush()
    return clients


def seed_alerts_demo(session: Session, user: User, login: ServiceAccount, folder: Folder,
                     now: datetime | None = None) -> Job:
    """The anomalies job over every account, and its delivery of yesterday's numbers.

    Pet Food Online's first campaign stopped serving (the Sandbox's anomaly), and its
    conversions arrive late: the store's days of that account are seeded as pulled a day ago,
    with a finished run of the job that delivered the day before yesterday, so the first
    re-pull after `make run` finds that day's conversions moved and tells the job.
    """
    now = now or utcnow()
    definition = create_definition(session, user.id, "anomalies", name="Anomaly detection",
                                   output_type=OutputType.XLSX, parameters={
                                       "weeks": 8, "sensitivity": "3", "min_volume": 10,
                                       "notifications": True})
    job = create_job(session, folder, definition, "All accounts — anomalies",
                     schedule_kind=ScheduleKind.DAILY, schedule={"time": "07:15"},
                     time_zone="Europe/Prague")
    job.level = JobLevel.SERVICE_ACCOUNT
    job.service_account_id = login.id
    job.all_client_accounts = True
    account = session.scalars(select(ClientAccount).where(
        ClientAccount.service_account_id == login.id,
        ClientAccount.external_id == ALERTS_ACCOUNT)).one()
    remote = next(a for a in SANDBOX_ACCOUNTS if a.external_id == ALERTS_ACCOUNT)
    pulled_at = now - timedelta(days=1)
    delivered = pulled_at.astimezone(zone_of(remote.time_zone)).date() - timedelta(days=1)
    rows = SandboxClient(clock=lambda: pulled_at).fetch_report(
        ReportRequest(remote, delivered - timedelta(days=6), delivered, ("date", "campaign")))
    store_days(session, AccountRef(account.id, user.id, account.currency),
               delivered - timedelta(days=6), delivered, rows, pulled_at)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=pulled_at, status=RunStatus.SUCCEEDED,
                 attempt=1, started_at=pulled_at, finished_at=pulled_at, rows=0,
                 log="Seeded by the demo: the delivery whose numbers move.")
    session.add(run)
    session.flush()
    record_coverage(session, run.id, job.id, user.id, [(account.id, delivered, delivered)],
                    pulled_at)
    return job


def add_url_checker_demo(session: Session, user: User, login: ServiceAccount, folder: Folder) -> Job:
    """The URL checker over every Sandbox account: their ads link to the app's demo site, so its
    first run finds the site's broken pages (404s, a 410, a loop, a soft 404)."""
    from ppc_robot.lib.reports.url_checker import default_parameters

    definition = create_definition(session, user.id, "url_checker", name="Landing pages",
                                   output_type=OutputType.XLSX,
                                   parameters=default_parameters() | {"notify_redirects": True})
    job = create_job(session, folder, definition, "All accounts — URL checker",
                     schedule_kind=ScheduleKind.DAILY, schedule={"time": "05:30"},
                     time_zone="Europe/Prague")
    job.level = JobLevel.SERVICE_ACCOUNT
    job.service_account_id = login.id
    job.all_client_accounts = True
    return job
