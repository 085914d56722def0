"""A run that meets an exhausted daily quota waits for the window it announced, then runs; the
login's "rate limited" state lasts until its next successful call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import (
    JobRun,
    Notification,
    OutputType,
    Platform,
    PlatformQuota,
    RunStatus,
    ServiceAccount,
    ServiceAccountStatus,
    utcnow,
)
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run, tick
from tests.factories import make_definition, make_job
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.platforms import SKLIK_TOKEN, stub_settings
from tests.support.runs import KEY, SCHEDULED

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
sklik_stub = platform_fixtures.sklik_stub
DAILY_CALLS = 20


@pytest.fixture
def settings(tmp_path, sklik_stub):
    return RunnerSettings(outputs_dir=tmp_path, heartbeat_seconds=0.2, max_attempts=3, app_config={
        "PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_SKLIK_URL": sklik_stub.base_url,
        "PPC_ROBOT_RETRY_MAX_WAIT_SECONDS": "0", "PPC_ROBOT_QUOTA_SKLIK_DAY": str(DAILY_CALLS)})


@pytest.fixture
def login(session, sandbox, sklik_stub):
    user, _, _ = sandbox
    login, _ = link_service_account(session, user, Platform.SKLIK, {"token": SKLIK_TOKEN},
                                    vault=Vault([KEY]), settings=stub_settings(sklik_url=sklik_stub.base_url))
    session.commit()
    return login


@pytest.fixture
def used_up(session, login):
    """The Sklik login's calls of the day are used up already; returns when the next day starts."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    session.execute(update(PlatformQuota).where(PlatformQuota.service_account_id == login.id)
                    .values(period_start=today, used=DAILY_CALLS))
    if session.scalar(select(PlatformQuota.id).where(PlatformQuota.service_account_id == login.id,
                                                     PlatformQuota.period == "day")) is None:
        session.add(PlatformQuota(service_account_id=login.id, period="day", period_start=today,
                                  used=DAILY_CALLS))
    session.commit()
    return today + timedelta(days=1)


def quota_run(session, sandbox, login):
    user, _, _ = sandbox
    definition = make_definition(session, user, version=2, output_type=OutputType.CSV,
                                 parameters=default_parameters() | {
                                     "dimensions": ["campaign"], "date_range": "custom",
                                     "date_from": "2026-08-01", "date_to": "2026-08-07"})
    job = make_job(session, user, definition=definition)
    job.client_accounts = [a for a in login.client_accounts if a.external_id == "132256"]
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()
    return run


def test_a_run_over_an_exhausted_quota_waits_for_the_time_it_announced(
        session, factory, settings, sandbox, login, used_up, sklik_stub):
    run = quota_run(session, sandbox, login)

    outcomes = [execute_run(factory, run.id, settings) for _ in range(3)]
    dispatched = tick(factory, settings, lambda run_id: None)

    session.expire_all()
    stored = session.get(JobRun, run.id)
    login = session.get(ServiceAccount, login.id)
    assert outcomes == ["rescheduled", "not claimed", "not claimed"]
    assert dispatched == []
    assert not any("Report" in r.path for r in sklik_stub.requests)  # no report was asked for
    assert (stored.status, stored.next_attempt_at, stored.attempt) == (RunStatus.QUEUED, used_up, 0)
    assert f"quota exhausted, next attempt at {used_up:%Y-%m-%d %H:%M} UTC" in stored.error_message
    assert login.status == ServiceAccountStatus.RATE_LIMITED
    assert tick(factory, settings, lambda run_id: None, now=used_up) == [run.id]


def test_after_the_window_the_run_completes_and_the_login_is_no_longer_rate_limited(
        session, factory, settings, sandbox, login, used_up):
    run = quota_run(session, sandbox, login)
    assert execute_run(factory, run.id, settings) == "rescheduled"
    # The window passes: the day's counter starts over, and the run's wait is over.
    yesterday = used_up - timedelta(days=2)
    session.execute(update(PlatformQuota).values(period_start=yesterday))
    session.execute(update(JobRun).where(JobRun.id == run.id).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    session.commit()

    outcome = execute_run(factory, run.id, settings)

    session.expire_all()
    stored = session.get(JobRun, run.id)
    login = session.get(ServiceAccount, login.id)
    assert outcome == "succeeded", stored.error_message
    assert stored.attempt == 1 and stored.next_attempt_at is None
    assert (login.status, login.last_error) == (ServiceAccountStatus.VALID, None)
    quota_notice = session.scalar(select(Notification).where(Notification.service_account_id == login.id))
    assert quota_notice is not None and quota_notice.resolved_at is not None
