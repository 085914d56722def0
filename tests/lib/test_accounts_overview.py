"""The accounts overview run for real through the runner: on the Sandbox and on the Sklik
stand-in (through the store's refresh path), compared with the platforms' own answers."""

from __future__ import annotations

import csv
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import (
    AccountDay,
    Client,
    JobLevel,
    JobRun,
    OutputType,
    Platform,
    RunStatus,
)
from ppc_robot.lib.platforms import RemoteAccount, ReportRequest
from ppc_robot.lib.platforms.sandbox import SandboxClient
from ppc_robot.lib.reports import get_report_type
from ppc_robot.lib.reports.accounts_overview import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import make_definition, make_job
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.platforms import SKLIK_TOKEN, stub_settings
from tests.support.runs import KEY, SCHEDULED
from tests.support.xlsx import read_workbook

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
sklik_stub = platform_fixtures.sklik_stub
CENT = Decimal("0.01")


@pytest.fixture
def settings(tmp_path):
    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY})


def overview_job(session, user, *, login=None, client=None, output=OutputType.CSV, **parameters):
    definition = make_definition(session, user, task_type="accounts_overview", output_type=output,
                                 parameters=default_parameters() | parameters)
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    if login is not None:
        job.level, job.service_account_id, job.all_client_accounts = (
            JobLevel.SERVICE_ACCOUNT, login.id, True)
    if client is not None:
        job.level, job.client_id, job.all_client_accounts = JobLevel.CLIENT, client.id, True
    session.commit()
    return job


def run_job(session, factory, settings, job, scheduled_at=SCHEDULED):
    run = JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=scheduled_at)
    session.add(run)
    session.commit()
    execute_run(factory, run.id, settings)
    session.expire_all()
    run = session.get(JobRun, run.id)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    return run


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def money(text):
    return Decimal(text) if text else None


def sandbox_truth(account, first, last):
    """Cost, conversions and value of one account as the Sandbox itself answers, by hand."""
    remote = RemoteAccount(account.external_id, account.name, account.currency, account.time_zone)
    cost = conversions = value = Decimal(0)
    for row in SandboxClient().fetch_report(ReportRequest(remote, first, last, ("date",))):
        cost += row.cost
        conversions += row.conversions
        value += row.conversion_value
    return cost, conversions, value


def add_client(session, user, name, currency, accounts, **goals):
    client = Client(user_id=user.id, name=name, currency=currency, **goals)
    session.add(client)
    session.flush()
    for account in accounts:
        account.client_id = client.id
    session.commit()
    return client


def test_the_type_is_in_the_catalogue_with_its_form():
    overview = get_report_type("accounts_overview")
    form = overview.form()
    assert {"notifications", "target_days"} <= set(form.data)
    assert form.target_days.data == 3


def test_sandbox_overview_equals_the_platforms_sums_per_account(session, factory, settings, sandbox):
    user, login, accounts = sandbox
    acme = add_client(session, user, "Acme", "CZK", accounts[:2], monthly_budget=Decimal(50000))
    job = overview_job(session, user, login=login)

    run = run_job(session, factory, settings, job)

    rows = read_csv(run.output_file)
    by_account = {r["Client account"]: r for r in rows if r["Row"] == "Account"}
    assert set(by_account) == {a.name for a in accounts}
    yesterday = date(2026, 11, 24)  # the job's day is 25 November in Prague
    for account in accounts:
        row = by_account[account.name]
        assert row["Currency"] == account.currency
        for column, first in (("Spend yesterday", yesterday),
                              ("Spend last 7 days", yesterday - timedelta(days=6)),
                              ("Spend month to date", date(2026, 11, 1))):
            cost, _, _ = sandbox_truth(account, first, yesterday)
            assert money(row[column]) == cost.quantize(CENT), (account.name, column)
        cost, conversions, value = sandbox_truth(account, date(2026, 11, 1), yesterday)
        assert money(row["Conversion value (month)"]) == value.quantize(CENT)
        assert Decimal(row["Conversions (month)"]) == conversions.quantize(Decimal("0.0001"))
    # The client's budget on its accounts in its currency and on its client row.
    acme_cz = by_account[accounts[0].name]
    assert money(acme_cz["Monthly budget"]) == Decimal(50000)
    [client_row] = [r for r in rows if r["Row"] == "Client"]
    assert client_row["Client"] == "Acme" and client_row["Pacing (%)"] == acme_cz["Pacing (%)"]
    assert money(client_row["Spend month to date"]) == money(acme_cz["Spend month to date"])
    # CSV stays plain data: the totals are in the XLSX, the spreadsheet and the preview.
    assert not [r for r in rows if r["Row"] == "Total"]
    # The store now holds the period, so the dashboard reads the same numbers.
    stored = session.scalar(select(func.count()).select_from(AccountDay).where(
        AccountDay.client_account_id == accounts[0].id))
    assert stored >= 24
    assert acme.id


def test_sklik_overview_goes_through_the_store_refresh_and_equals_the_platform(
        session, factory, sandbox, sklik_stub, tmp_path):
    user, _, _ = sandbox
    login, _ = link_service_account(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                                    vault=Vault([KEY]), settings=stub_settings(sklik_url=sklik_stub.base_url))
    session.commit()
    eshop = [a for a in login.client_accounts if a.external_id == "132256"]
    garden = [a for a in login.client_accounts if a.external_id == "132257"]
    client = add_client(session, user, "Garden", "CZK", garden, monthly_budget=Decimal(1000))
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2, app_config={
        "PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_SKLIK_URL": sklik_stub.base_url})
    job = overview_job(session, user, login=login, notifications=True)
    scheduled = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)  # the job's day: 1 September, August shown

    run = run_job(session, factory, settings, job, scheduled)

    rows = {r["Client account"]: r for r in read_csv(run.output_file) if r["Row"] == "Account"}
    # By hand from the stand-in's data: three campaigns, day i costs 12345 + 101 i halers.
    halers = [12345 + i * 101 for i in range(31)]
    month = Decimal(3 * sum(halers)) / 100
    week = Decimal(3 * sum(halers[-7:])) / 100
    last = Decimal(3 * halers[-1]) / 100
    value = Decimal(3 * sum(45905 * (i % 3) for i in range(31))) / 100
    row = rows[eshop[0].name]
    assert (money(row["Spend yesterday"]), money(row["Spend last 7 days"]),
            money(row["Spend month to date"]), money(row["Conversion value (month)"])) == (
        last, week, month, value)
    assert Decimal(row["Conversions (month)"]) == 3 * sum(i % 3 for i in range(31))
    assert money(rows[garden[0].name]["Spend month to date"]) == 0
    reports = sum(r.path.endswith("readReport") for r in sklik_stub.requests)
    assert reports >= 1
    # The garden account has a budget and spent nothing: notified once, by account.
    from ppc_robot.lib.models import Notification
    [no_spend] = session.scalars(select(Notification).where(
        Notification.code == 3, Notification.category == 5)).all()
    assert no_spend.client_account_id == garden[0].id and no_spend.resolved_at is None

    # Settled days are not pulled again: the second run reads the store only.
    run_job(session, factory, settings, job, scheduled + timedelta(minutes=5))
    assert sum(r.path.endswith("readReport") for r in sklik_stub.requests) == reports
    assert session.scalar(select(Notification).where(Notification.id == no_spend.id)).occurrences == 2
    assert client.id


def _fill_of(archive, sheet_xml, reference):
    """The fill colour (ARGB) of one cell of a sheet, through its style."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    root = ElementTree.fromstring(archive.read(sheet_xml))
    cell = root.find(f".//m:c[@r='{reference}']", ns)
    styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    xf = styles.find("m:cellXfs", ns)[int(cell.get("s", "0"))]
    fill = styles.find("m:fills", ns)[int(xf.get("fillId", "0"))]
    colour = fill.find(".//m:fgColor", ns)
    return colour.get("rgb") if colour is not None else None


def test_xlsx_has_totals_per_currency_colours_and_a_pacing_chart(session, factory, settings, sandbox):
    user, login, accounts = sandbox
    add_client(session, user, "Over", "CZK", [accounts[0]], monthly_budget=Decimal(1),
               target_roas=Decimal(1000))
    add_client(session, user, "Garden", "CZK", [a for a in accounts if a.name == "Garden Centre Brno"],
               monthly_budget=Decimal(10 ** 9))
    job = overview_job(session, user, login=login, output=OutputType.XLSX)

    run = run_job(session, factory, settings, job)

    sheets = read_workbook(run.output_file)
    assert list(sheets) == ["Accounts overview", "Pacing"]
    table = sheets["Accounts overview"]
    header = table[0]
    column = {name: header.index(name) for name in header}
    data = [r for r in table[1:] if r and r[0] in ("Account", "Client", "Total")]
    totals = {r[column["Currency"]]: r for r in data if r[0] == "Total"}
    assert set(totals) == {"CZK", "EUR"}
    for currency, total in totals.items():
        members = [r for r in data if r[0] == "Account" and r[column["Currency"]] == currency]
        expected = sum(Decimal(r[column["Spend month to date"]]) for r in members)
        assert Decimal(total[column["Spend month to date"]]).quantize(CENT) == expected.quantize(CENT)
    with zipfile.ZipFile(run.output_file) as archive:
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())
        assert b'c:barChart' in archive.read("xl/charts/chart1.xml")
        pacing_col = chr(ord("A") + column["Pacing"])
        roas_col = chr(ord("A") + column["ROAS"])
        rows_of = {(r[0], r[column["Client"]]): n + 1 for n, r in enumerate(table) if r and r[0] == "Client"}
        over = rows_of[("Client", "Over")]
        under = rows_of[("Client", "Garden")]
        assert _fill_of(archive, "xl/worksheets/sheet1.xml", f"{pacing_col}{over}") == "FFFFC7CE"
        assert _fill_of(archive, "xl/worksheets/sheet1.xml", f"{pacing_col}{under}") == "FFFFC7CE"
        assert _fill_of(archive, "xl/worksheets/sheet1.xml", f"{roas_col}{over}") == "FFFFC7CE"


PRAGUE = "Europe/Prague"


def at_half_past_midnight(day):
    """The run's moment: 00:30 on `day` in Prague (22:30 or 23:30 UTC the day before)."""
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, 0, 30, tzinfo=ZoneInfo(PRAGUE)).astimezone(UTC)


def open_notifications(session, name):
    from ppc_robot.lib.models import Notification
    from ppc_robot.lib.notifications import notification_type

    kind = notification_type(name)
    session.expire_all()
    return session.scalars(select(Notification).where(
        Notification.category == kind.category, Notification.code == kind.code)
        .order_by(Notification.id)).all()


def test_pacing_notifications_are_raised_once_and_resolved_across_a_month_with_a_dst_change(
        session, factory, settings, sandbox):
    user, _, accounts = sandbox
    account = accounts[0]  # CZK, Prague
    client = add_client(session, user, "Acme", "CZK", [account], monthly_budget=Decimal(1),
                        pacing_tolerance=Decimal(10))
    job = overview_job(session, user, client=client, notifications=True)
    october = [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]

    def run_on(day):  # the job's day `day` shows the month through the day before
        return run_job(session, factory, settings, job, at_half_past_midnight(day))

    def on_track_budget(through):
        spent, _, _ = sandbox_truth(account, through.replace(day=1), through)
        return spent * 31 / through.day

    # 2 … 25 October (through 1 … 24 October: the month's first day, DST ends on the 25th).
    for day in october[1:25]:
        run_on(day)
    [over] = open_notifications(session, "budget_overspend")
    assert over.resolved_at is None and over.occurrences == 24
    assert over.created_at == at_half_past_midnight(october[1])

    # 26 October, through the 25-hour day: on track, the overspend is resolved.
    client.monthly_budget = on_track_budget(date(2026, 10, 25))
    session.commit()
    run_on(date(2026, 10, 26))
    [over] = open_notifications(session, "budget_overspend")
    assert over.resolved_at == at_half_past_midnight(date(2026, 10, 26))
    assert open_notifications(session, "budget_underspend") == []

    # 27 … 31 October: a budget far too large, under once.
    client.monthly_budget = Decimal(10 ** 9)
    session.commit()
    for day in october[26:]:
        run_on(day)
    [under] = open_notifications(session, "budget_underspend")
    assert under.resolved_at is None and under.occurrences == 5

    # 1 November shows October whole (through its last day): spent exactly, resolved.
    client.monthly_budget = on_track_budget(date(2026, 10, 31))
    session.commit()
    run_on(date(2026, 11, 1))
    [under] = open_notifications(session, "budget_underspend")
    assert under.resolved_at == at_half_past_midnight(date(2026, 11, 1))
    [over] = open_notifications(session, "budget_overspend")  # never raised again
    assert over.resolved_at is not None
    # The account always spent: no "no spend" notification.
    assert open_notifications(session, "budget_account_no_spend") == []


def test_a_target_missed_n_days_in_a_row_is_raised_once_and_resolved(
        session, factory, settings, sandbox):
    user, _, accounts = sandbox
    client = add_client(session, user, "Acme", "CZK", [accounts[0]],
                        target_roas=Decimal(1000), pacing_tolerance=Decimal(10))
    job = overview_job(session, user, client=client, notifications=True, target_days=3)

    for offset in range(3):
        run_job(session, factory, settings, job, SCHEDULED + timedelta(days=offset))
    [missed] = open_notifications(session, "target_missed_days")
    assert missed.occurrences == 3 and missed.resolved_at is None
    assert missed.message_params["metric"] == "ROAS" and missed.message_params["days"] == 3

    client.target_roas = Decimal("0.01")
    session.commit()
    run_job(session, factory, settings, job, SCHEDULED + timedelta(days=3))
    [missed] = open_notifications(session, "target_missed_days")
    assert missed.resolved_at is not None
    # No budget: pacing is never notified.
    assert open_notifications(session, "budget_overspend") == []


def test_the_demo_has_a_daily_overview_that_notifies_its_over_and_under_clients(
        session, factory, settings):
    from ppc_robot.lib.demo import seed_demo, set_demo_goals
    from ppc_robot.lib.models import Job

    demo = seed_demo(session)
    now = datetime(2026, 11, 16, 5, 30, tzinfo=UTC)  # the job's day: 16 November
    set_demo_goals(session, demo.user, now)  # the budgets of that month
    session.commit()
    [job] = session.scalars(select(Job).where(Job.user_id == demo.user.id,
                                              Job.name.contains("daily overview"))).all()
    assert job.definition.task_type == "accounts_overview"
    assert job.definition.parameters["notifications"] is True
    assert job.level is JobLevel.SERVICE_ACCOUNT and job.all_client_accounts

    run_job(session, factory, settings, job, now)

    [over] = open_notifications(session, "budget_overspend")
    [under] = open_notifications(session, "budget_underspend")
    assert over.message_params["client"] == "Acme Shoes"
    assert under.message_params["client"] == "Garden Centre Brno"


def test_pacing_is_per_client_in_its_currency():
    from ppc_robot.lib.pacing import PacingStatus
    from ppc_robot.lib.reports.accounts_overview_table import (
        ClientGoals,
        OverviewAccount,
        StoredDay,
        compute_overview,
    )

    today = date(2026, 11, 11)  # through the 10th of a 30-day month: a third of the budget
    accounts = [OverviewAccount(1, "CZ", "sandbox", "CZK", 7),
                OverviewAccount(2, "SK", "sandbox", "EUR", 7),
                OverviewAccount(3, "Other CZ", "sklik", "CZK", None),
                OverviewAccount(4, "Vienna", "sandbox", "EUR", 8)]
    clients = {7: ClientGoals(7, "Acme", "CZK", Decimal(3000), Decimal(10)),
               8: ClientGoals(8, "Czech budget, euro account", "CZK", Decimal(3000), Decimal(10))}
    days = {(account, date(2026, 11, d)): StoredDay(100_000_000, Decimal(1), 300_000_000)
            for account in (1, 2, 3, 4) for d in range(1, 11)}

    overview = compute_overview(accounts, clients, days, today)

    kinds = [(r.kind, r.client, r.account, r.currency) for r in overview.rows]
    assert kinds == [("account", "Acme", "CZ", "CZK"), ("account", "Acme", "SK", "EUR"),
                     ("client", "Acme", "", "CZK"),
                     ("account", "Czech budget, euro account", "Vienna", "EUR"),
                     ("account", "", "Other CZ", "CZK")]
    acme = overview.client_pacing[7]
    # 1000 CZK spent of 1000 expected (3000 × 10/30): exactly on pace; the euro account is
    # neither in the client's spend nor paced.
    assert (acme.spend, acme.percent, acme.status) == (Decimal(1000), Decimal(100),
                                                       PacingStatus.ON_TRACK)
    assert overview.rows[0].pacing is acme and overview.rows[1].pacing is None
    assert 8 not in overview.client_pacing  # no account in its currency: nothing to pace
    values = overview.rows[0].values()
    assert values["cpa"] == Decimal(100) and values["roas"] == Decimal(3)
