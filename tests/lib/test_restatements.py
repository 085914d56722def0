"""Numbers that moved after delivery, through the store's real refresh path against the Sklik
stand-in whose numbers change between two pulls; and the demo shows an anomaly and a
restatement."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.alerts.restatements import (
    Moved,
    moved_runs,
    note_moved_numbers,
    record_coverage,
)
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.demo import seed_demo
from ppc_robot.lib.models import (
    ClientAccount,
    Job,
    JobLevel,
    JobRun,
    Notification,
    OutputType,
    Platform,
    RunCoverage,
    RunStatus,
)
from ppc_robot.lib.notifications.catalogue import ANOMALIES, OUTPUTS
from ppc_robot.lib.platforms.sandbox import ALERTS_ACCOUNT
from ppc_robot.lib.reports.anomalies import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from ppc_robot.lib.stats import StatsSettings, refresh_due_statistics
from tests.factories import make_definition, make_job, make_user
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.platforms import SKLIK_TOKEN, stub_settings
from tests.support.runs import KEY

factory = run_fixtures.factory
sklik_stub = platform_fixtures.sklik_stub
DELIVERED_DAY = date(2026, 8, 31)
# The stand-in's day 31 August: three campaigns, 12345 + 101 × 30 halers each.
DAY_COST_HALERS = 3 * (12345 + 30 * 101)


def _execute(session, factory, settings, job, scheduled_at):
    session.commit()  # leave any read snapshot older than the housekeeping's writes
    run = JobRun(user_id=job.user_id, job_id=job.id, scheduled_at=scheduled_at)
    session.add(run)
    session.commit()
    execute_run(factory, run.id, settings)
    session.expire_all()
    run = session.get(JobRun, run.id)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    return run


@pytest.fixture
def delivered(session, factory, sklik_stub, tmp_path):
    """An anomalies job on the stand-in's e-shop account that delivered 31 August."""
    user = make_user(session)
    login, _ = link_service_account(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                                    vault=Vault([KEY]),
                                    settings=stub_settings(sklik_url=sklik_stub.base_url))
    session.commit()
    eshop = next(a for a in login.client_accounts if a.external_id == "132256")
    definition = make_definition(session, user, task_type="anomalies",
                                 output_type=OutputType.CSV, parameters=default_parameters())
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    job.level, job.client_accounts = JobLevel.CLIENT_ACCOUNT, [eshop]
    session.commit()
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2, app_config={
        "PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_SKLIK_URL": sklik_stub.base_url})
    run = _execute(session, factory, settings, job, datetime(2026, 9, 1, 6, 0, tzinfo=UTC))
    return job, eshop, run


def _change_cost(stub, day, add_halers):
    account = stub.accounts[132256]
    rows = account.campaigns["Brand"]
    account.campaigns["Brand"] = [
        (d, imp, clicks, money + add_halers if d == day else money, conv, value)
        for d, imp, clicks, money, conv, value in rows]


def _repull(factory, stub, config=None):
    """The housekeeping's daily re-pull of the last 7 days, as on 1 September."""
    settings = dataclasses.replace(
        StatsSettings.from_config(config), backfill_months=0, credentials_key=KEY,
        platform=stub_settings(sklik_url=stub.base_url))
    report = refresh_due_statistics(factory, settings, datetime(2026, 9, 1, 5, 0, tzinfo=UTC))
    assert report.refreshed >= 1 and report.failed == 0


def _moved(session):
    session.commit()  # a new transaction: see what the housekeeping's sessions committed
    return session.scalars(select(Notification).where(
        Notification.category == OUTPUTS, Notification.code == 1)).all()


def test_a_restatement_above_the_threshold_raises_exactly_one_suggestion(
        session, factory, sklik_stub, delivered):
    job, eshop, run = delivered
    _change_cost(sklik_stub, DELIVERED_DAY, DAY_COST_HALERS // 10)  # +10 % on the day
    _change_cost(sklik_stub, DELIVERED_DAY - timedelta(days=1), DAY_COST_HALERS)  # not delivered

    _repull(factory, sklik_stub)

    [moved] = _moved(session)
    assert (moved.job_id, moved.client_account_id, moved.resolved_at) == (job.id, eshop.id, None)
    before = Decimal(DAY_COST_HALERS) / 100
    after = Decimal(DAY_COST_HALERS + DAY_COST_HALERS // 10) / 100
    assert moved.message_params["day"] == "2026-08-31"
    assert moved.message_params["metric"] == "cost"
    assert moved.message_params["before"] == f"{before:,.2f} CZK"
    assert moved.message_params["after"] == f"{after:,.2f} CZK"
    assert [d["Day"] for d in moved.details] == ["2026-08-31"]
    assert moved_runs(session, [run.id]) == {run.id}


def test_a_restatement_below_the_threshold_raises_nothing(session, factory, sklik_stub,
                                                          delivered):
    _job, _eshop, run = delivered
    _change_cost(sklik_stub, DELIVERED_DAY, DAY_COST_HALERS // 50)  # +2 %

    _repull(factory, sklik_stub)

    assert _moved(session) == []
    assert moved_runs(session, [run.id]) == set()


def test_the_threshold_is_a_setting(session, factory, sklik_stub, delivered):
    _change_cost(sklik_stub, DELIVERED_DAY, DAY_COST_HALERS // 10)  # +10 %

    _repull(factory, sklik_stub, {"PPC_ROBOT_STATS_MOVED_PERCENT": "12"})

    assert StatsSettings().moved_percent == 5
    assert _moved(session) == []


def test_running_the_job_again_resolves_the_suggestion(session, factory, sklik_stub, delivered,
                                                       tmp_path):
    job, _eshop, _run = delivered
    _change_cost(sklik_stub, DELIVERED_DAY, DAY_COST_HALERS // 5)
    _repull(factory, sklik_stub)
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2, app_config={
        "PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_SKLIK_URL": sklik_stub.base_url})

    _execute(session, factory, settings, job, datetime(2026, 9, 1, 7, 0, tzinfo=UTC))

    [moved] = _moved(session)
    assert moved.resolved_at is not None


def test_the_demo_shows_an_anomaly_and_a_restatement(session, factory, tmp_path):
    with factory() as setup:
        demo = seed_demo(setup)
        setup.commit()
        user_id = demo.user.id
    job = session.scalars(select(Job).where(Job.user_id == user_id,
                                            Job.name == "All accounts — anomalies")).one()
    pet_food = session.scalars(select(ClientAccount).where(
        ClientAccount.user_id == user_id, ClientAccount.external_id == ALERTS_ACCOUNT)).one()
    [seeded] = session.scalars(select(RunCoverage).where(RunCoverage.job_id == job.id)).all()
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                              app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY})

    _execute(session, factory, settings, job, datetime.now(UTC))

    anomalies = session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.category == ANOMALIES)).all()
    stopped = [n for n in anomalies if n.client_account_id == pet_food.id
               and n.message_params["reason"] == "no impressions"]
    assert len(stopped) == 1 and "Pet" in stopped[0].message
    [moved] = [n for n in _moved(session) if n.user_id == user_id]
    assert (moved.job_id, moved.client_account_id, moved.resolved_at) == (job.id, pet_food.id, None)
    assert {d["Metric"] for d in moved.details} >= {"conversions"}
    assert moved_runs(session, [seeded.run_id]) == {seeded.run_id}


def _delivery(session, job, account, status, minutes):
    run = JobRun(user_id=job.user_id, job_id=job.id, status=status,
                 scheduled_at=datetime(2026, 9, 1, 6, minutes, tzinfo=UTC))
    session.add(run)
    session.flush()
    record_coverage(session, run.id, job.id, job.user_id,
                    [(account.id, DELIVERED_DAY, DELIVERED_DAY)], datetime.now(UTC),
                    delivered=status != RunStatus.RUNNING)
    return run


def test_a_run_under_way_that_delivers_the_day_keeps_its_job_from_being_told(session, workspace):
    job, account = workspace.job, workspace.client_account
    old = _delivery(session, job, account, RunStatus.SUCCEEDED, 0)
    _delivery(session, job, account, RunStatus.RUNNING, 5)

    told = note_moved_numbers(session, account.id, "CZK",
                              [Moved(DELIVERED_DAY, "cost_micros", Decimal(100), Decimal(150))],
                              datetime.now(UTC))

    assert told == 0 and _moved(session) == []
    assert moved_runs(session, [old.id]) == {old.id}


def test_a_day_that_moves_twice_keeps_the_value_the_job_delivered(session, workspace):
    job, account = workspace.job, workspace.client_account
    _delivery(session, job, account, RunStatus.SUCCEEDED, 0)

    for before, after in ((10, 12), (12, 15)):
        note_moved_numbers(session, account.id, "CZK",
                           [Moved(DELIVERED_DAY, "conversions", Decimal(before), Decimal(after))],
                           datetime.now(UTC))

    [moved] = _moved(session)
    assert (moved.occurrences, moved.message_params["before"],
            moved.message_params["after"]) == (2, "10", "15")
    assert moved.details == [{"Day": "2026-08-31", "Metric": "conversions",
                              "Delivered": "10", "Now": "15"}]
