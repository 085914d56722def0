"""Anomaly detection: synthetic series with injected anomalies, the zero-impressions rule,
too little history, the minimum volume, and the report run through the runner (one
notification per anomaly, counted again, resolved when back in range)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from ppc_robot.lib.alerts.anomalies import (
    Entity,
    EntityDays,
    Values,
    compared_days,
    detect_anomalies,
)
from ppc_robot.lib.alerts.anomalies_notify import anomaly_chart
from ppc_robot.lib.alerts.anomalies_read import AccountInfo, read_days
from ppc_robot.lib.models import JobLevel, JobRun, Notification, OutputType, RunStatus
from ppc_robot.lib.notifications.catalogue import ANOMALIES
from ppc_robot.lib.notifications.translated import translated_message
from ppc_robot.lib.reports import ParametersError, get_report_type, validate_parameters
from ppc_robot.lib.reports.anomalies import default_parameters
from ppc_robot.lib.reports.anomalies_run import anomalies_frame
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import (
    make_client_account,
    make_definition,
    make_job,
    make_service_account,
)
from tests.support import runs as run_fixtures
from tests.support.runs import KEY
from tests.support.stats import make_account_day, make_campaign_day, micros
from tests.support.xlsx import read_workbook

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
YESTERDAY = date(2026, 11, 24)  # a Tuesday
BASE = {"cost": Decimal("1000.00"), "clicks": 200, "impressions": 5000,
        "conversions": Decimal(20)}


def _series(seed: int, weeks: int = 8, *, noise: float = 0.08,
            yesterday_scale: dict[str, float] | None = None) -> dict[date, Values]:
    """A steady series with noise on the compared days; yesterday's metrics scaled."""
    rng = random.Random(seed)
    days = {}
    for day in compared_days(YESTERDAY, weeks) + [YESTERDAY]:
        scale = (yesterday_scale or {}) if day == YESTERDAY else {}

        def value(metric: str, scale: dict[str, float] = scale) -> float:
            return float(BASE[metric]) * rng.uniform(1 - noise, 1 + noise) * scale.get(metric, 1)

        days[day] = Values(Decimal(str(round(value("cost"), 2))), round(value("clicks")),
                           round(value("impressions")), Decimal(round(value("conversions"))))
    return days


def _entity(index: int, campaign: bool = True) -> Entity:
    return Entity(index, f"Account {index}", "CZK", f"c{index}" if campaign else None,
                  f"Campaign {index}" if campaign else None)


def test_every_injected_anomaly_is_found_and_none_on_the_clean_series():
    injected = {3: {"cost": 2.5}, 7: {"clicks": 0.3}, 11: {"impressions": 3.0},
                15: {"conversions": 0.0}, 19: {"cost": 0.2, "clicks": 0.2}}
    entities = [EntityDays(_entity(i), _series(i, yesterday_scale=injected.get(i)))
                for i in range(40)]

    found = detect_anomalies(entities, YESTERDAY)

    assert {(a.entity.client_account_id, a.metric) for a in found.anomalies} == {
        (index, metric) for index, scales in injected.items() for metric in scales}
    assert not found.unjudged
    clean = detect_anomalies([EntityDays(_entity(i), _series(i)) for i in range(40)], YESTERDAY)
    assert clean.anomalies == []
    assert len(clean.in_range) == 40 * 4


def test_an_earlier_outlier_does_not_widen_the_band():
    days = _series(1, yesterday_scale={"cost": 1.6})
    outlier_day = compared_days(YESTERDAY, 8)[2]
    days[outlier_day] = Values(Decimal("50000"), 200, 5000, Decimal(20))  # one crazy week

    found = detect_anomalies([EntityDays(_entity(1), days)], YESTERDAY)

    [anomaly] = found.anomalies
    assert (anomaly.metric, anomaly.reason) == ("cost", "above")
    assert anomaly.expected < Decimal("1100") and anomaly.high < Decimal("1400")


def test_a_campaign_that_spent_and_had_no_impressions_yesterday_is_always_flagged():
    days = _series(2)
    days[YESTERDAY] = Values()
    tiny = {day: Values(Decimal("3.00"), 1, 20, Decimal(0)) for day in days}
    tiny[YESTERDAY] = Values()

    found = detect_anomalies([EntityDays(_entity(1), days), EntityDays(_entity(2), tiny)],
                             YESTERDAY, sensitivity=Decimal(10), min_volume=50)

    assert [(a.entity.client_account_id, a.metric, a.reason) for a in found.anomalies] == [
        (1, "impressions", "no impressions"), (2, "impressions", "no impressions")]


def test_small_entities_under_the_minimum_volume_are_not_judged():
    small = {day: Values(Decimal("30"), 5, 100, Decimal(1)) for day in compared_days(YESTERDAY, 8)}
    small[YESTERDAY] = Values(Decimal("300"), 9, 1000, Decimal(5))

    found = detect_anomalies([EntityDays(_entity(1), small)], YESTERDAY, min_volume=10)

    assert (found.anomalies, found.below_volume) == ([], 1)


@pytest.mark.parametrize(("weeks_stored", "judged"), [(3, False), (4, True)])
def test_without_enough_history_it_says_so_and_raises_nothing(weeks_stored, judged):
    days = _series(5, yesterday_scale={"cost": 5})
    for day in compared_days(YESTERDAY, 8)[:8 - weeks_stored]:
        del days[day]

    found = detect_anomalies([EntityDays(_entity(1), days)], YESTERDAY)

    assert bool(found.anomalies) is judged
    assert bool(found.unjudged) is not judged
    if not judged:
        assert "3 of the 4 weeks" in found.unjudged[0].reason


@pytest.mark.parametrize(("field", "value", "message"), [
    ("sensitivity", "0.5", "Give a sensitivity from 1 to 10"),
    ("sensitivity", "11", "Give a sensitivity from 1 to 10"),
    ("weeks", "1", "Give a number of weeks from 2 to 26"),
    ("weeks", "27", "Give a number of weeks from 2 to 26"),
])
def test_parameters_out_of_range_are_refused_on_their_field(field, value, message):
    with pytest.raises(ParametersError) as refused:
        validate_parameters(get_report_type("anomalies"), default_parameters() | {field: value})

    assert message in refused.value.errors[field][0]


# The run, through the runner on a store filled by hand.

@pytest.fixture
def settings(tmp_path):
    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY})


def _fill(session, account, *, yesterday_cost):
    """Eight weeks of a steady campaign (settled long ago), yesterday's cost as given."""
    settled = datetime(2026, 12, 3, tzinfo=UTC)
    first = YESTERDAY - timedelta(days=7 * 8)
    day = first
    while day <= YESTERDAY:
        cost = yesterday_cost if day == YESTERDAY else Decimal(1000 + (day.day % 5) * 10)
        make_account_day(session, account, day, cost=cost, clicks=200, impressions=5000,
                         fetched_at=settled)
        make_campaign_day(session, account, "42", day, name="Brand", cost=cost, clicks=200,
                          impressions=5000, fetched_at=settled)
        day += timedelta(days=1)
    session.commit()


def _run(session, factory, settings, job, minutes=0):
    run = JobRun(user_id=job.user_id, job_id=job.id,
                 scheduled_at=datetime(2026, 11, 25, 6, minutes, tzinfo=UTC))
    session.add(run)
    session.commit()
    execute_run(factory, run.id, settings)
    session.expire_all()
    run = session.get(JobRun, run.id)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    return run


def test_the_run_raises_one_notification_per_anomaly_once_and_resolves_it(
        session, factory, sandbox, settings):
    user, _login, accounts = sandbox
    account = accounts[0]
    _fill(session, account, yesterday_cost=Decimal(3000))
    definition = make_definition(session, user, task_type="anomalies", output_type=OutputType.CSV,
                                 parameters=default_parameters())
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    job.level, job.client_accounts = JobLevel.CLIENT_ACCOUNT, [account]
    session.commit()

    first = _run(session, factory, settings, job)
    _run(session, factory, settings, job, minutes=5)

    raised = session.scalars(select(Notification).where(Notification.category == ANOMALIES)).all()
    assert sorted(n.entity_id for n in raised) == ["42:cost", "account:cost"]
    assert all(n.occurrences == 2 and n.resolved_at is None for n in raised)
    campaign = next(n for n in raised if n.entity_id == "42:cost")
    assert "Cost of" in campaign.message and "was CZK\u00a03,000.00, expected" in campaign.message
    assert ": 3\u00a0000,00\u00a0Kč, očekáváno 1\u00a0020,00\u00a0Kč" in translated_message(campaign, "cs")
    chart = anomaly_chart(campaign)
    assert chart["labels"][-1] == YESTERDAY.isoformat() and len(chart["labels"]) == 9
    written = Path(first.output_file).read_text(encoding="utf-8-sig")
    assert "Brand" in written and "above the usual range" in written

    for table in ("robot_stats_account_days", "robot_stats_campaign_days"):
        session.execute(text(
            f"UPDATE {table} SET cost_micros = :cost WHERE day = :day"),
            {"cost": micros(1020), "day": YESTERDAY})
    session.commit()
    _run(session, factory, settings, job, minutes=10)

    session.expire_all()
    assert all(n.resolved_at is not None for n in session.scalars(
        select(Notification).where(Notification.category == ANOMALIES)))


@pytest.mark.parametrize("accounts", [1, 6])
def test_the_store_is_read_in_the_same_queries_whatever_the_accounts(session, user, accounts,
                                                                     count_queries):
    login = make_service_account(session, user)
    infos = []
    for index in range(accounts):
        account = make_client_account(session, login, name=f"Account {index}")
        infos.append(AccountInfo(account.id, account.name, account.currency))
        for day in compared_days(YESTERDAY, 8) + [YESTERDAY]:
            make_account_day(session, account, day, cost=100)
            for campaign in ("1", "2", "3"):
                make_campaign_day(session, account, campaign, day, cost=100 / 3,
                                  name=f"Campaign {campaign}")
    session.commit()

    with count_queries() as counter:
        days = read_days(session, infos, YESTERDAY, 8)

    assert counter.count == 3
    assert len(days.entities) == accounts * 4
    assert days.frame.height == accounts * 4 * 9


def test_the_output_lists_what_had_too_little_history():
    days = _series(6)
    for day in compared_days(YESTERDAY, 8)[:6]:
        del days[day]

    frame = anomalies_frame(detect_anomalies([EntityDays(_entity(1), days)], YESTERDAY))

    assert frame.select("campaign", "finding").rows() == [
        ("Campaign 1", "not enough history: 2 of the 4 weeks of history needed")]


def test_the_xlsx_output_has_the_anomalies_and_the_campaigns_without_history(
        session, factory, sandbox, settings):
    user, _login, accounts = sandbox
    steady, young = accounts[0], accounts[1]
    _fill(session, steady, yesterday_cost=Decimal(3000))
    settled = datetime(2026, 12, 3, tzinfo=UTC)
    day = YESTERDAY - timedelta(days=7 * 8)
    while day <= YESTERDAY:  # the account is stored and settled; its campaign is two weeks old
        make_account_day(session, young, day, cost=50, fetched_at=settled)
        if day >= YESTERDAY - timedelta(days=14):
            make_campaign_day(session, young, "7", day, name="New", cost=50, fetched_at=settled)
        day += timedelta(days=1)
    session.commit()
    definition = make_definition(session, user, task_type="anomalies",
                                 output_type=OutputType.XLSX, parameters=default_parameters())
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague")
    job.level, job.client_accounts = JobLevel.CLIENT_ACCOUNT, [steady, young]
    session.commit()

    run = _run(session, factory, settings, job)

    [rows] = read_workbook(Path(run.output_file)).values()
    findings = {(row[0], row[1], row[-1]) for row in rows[1:] if len(row) > 2}
    assert (steady.name, "Brand", "above the usual range") in findings
    assert (young.name, "New", "not enough history: 2 of the 4 weeks of history needed") in findings
    assert session.scalars(select(Notification).where(
        Notification.client_account_id == young.id)).all() == []
