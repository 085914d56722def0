"""The plumbing every report type shares (lib/reports/shared), through a ReportRun on the Sandbox
with per-account functions of the test's own."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from ppc_robot.lib.models import ClientAccountStatus, JobRun, ServiceAccount, ServiceAccountStatus
from ppc_robot.lib.platforms import (
    BadRequestError,
    InvalidCredentialsError,
    PlatformSettingsError,
    RateLimitedError,
    ReportRequest,
)
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.reports.shared import AccountCall, ReportRun, fetch
from ppc_robot.lib.runner import ErrorClass, RunContext, RunFailed, RunnerSettings
from tests.factories import make_definition, make_job
from tests.support import runs as run_fixtures
from tests.support.runs import KEY, SCHEDULED

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
DAY = date(2026, 11, 24)


def report_run(session, factory, tmp_path, user, accounts, *, concurrency=8) -> ReportRun:
    """A ReportRun of a performance job reading `accounts`, as the runner would hand it over."""
    definition = make_definition(session, user, version=2, parameters=default_parameters())
    job = make_job(session, user, definition=definition)
    job.client_accounts = list(accounts)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", account_concurrency=concurrency,
                              app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY})
    context = RunContext(
        run_id=run.id, job_id=job.id, job_name=job.name, user_id=user.id, task_type="performance",
        task_type_version=2, output_type="csv", parameters=dict(definition.parameters),
        output_path="", output_state={}, time_zone="UTC",
        client_account_ids=[a.id for a in accounts], scheduled_at=SCHEDULED, settings=settings,
        session_factory=factory)
    return ReportRun(context)


def clicks_of_a_day(call: AccountCall) -> int:
    request = ReportRequest(call.account.remote(), DAY, DAY, ("date",))
    with call.slot:
        return sum(row.clicks for row in call.client().fetch_report(request))


def test_every_account_is_read_with_its_logins_one_client_and_progress_counts_them(
        session, factory, tmp_path, sandbox):
    user, _, accounts = sandbox
    run = report_run(session, factory, tmp_path, user, accounts)
    clients = set()

    def read(call: AccountCall) -> int:
        clients.add(id(call.client()))
        return clicks_of_a_day(call)

    results = run.fetch(run.accounts(), read, describe=lambda clicks: f"{clicks} clicks")

    assert sorted(a.name for a, _ in results) == sorted(a.name for a in accounts)
    assert all(clicks > 0 for _, clicks in results)
    assert len(clients) == 1  # one login, one client for the whole run
    assert (run.context.done, run.context.total) == (len(accounts), len(accounts))
    assert any(line.endswith(f"{accounts[0].name}: {dict((a.name, c) for a, c in results)[accounts[0].name]} clicks")
               for line in run.context.lines)
    assert run.missing == []
    session.expire_all()
    assert session.get_one(ServiceAccount, accounts[0].service_account_id).status is ServiceAccountStatus.VALID


def test_no_more_accounts_call_the_platform_at_once_than_the_runner_allows(
        session, factory, tmp_path, sandbox):
    user, _, accounts = sandbox
    assert len(accounts) >= 4
    run = report_run(session, factory, tmp_path, user, accounts[:4], concurrency=2)
    both_in = threading.Barrier(2, timeout=10)
    lock = threading.Lock()
    inside, most = 0, 0

    def read(call: AccountCall) -> None:
        nonlocal inside, most
        with call.slot:
            with lock:
                inside += 1
                most = max(most, inside)
            both_in.wait()  # two at once are allowed: both get here together
            with lock:
                inside -= 1

    results = run.fetch(run.accounts(), read)

    assert len(results) == 4
    assert most == 2


def test_one_failing_account_is_reported_missing_and_the_others_are_read(
        session, factory, tmp_path, sandbox):
    user, _, accounts = sandbox
    run = report_run(session, factory, tmp_path, user, accounts[:3])
    broken = accounts[1].name

    def read(call: AccountCall) -> int:
        if call.account.name == broken:
            raise BadRequestError("the platform refused the request")
        return clicks_of_a_day(call)

    results = run.fetch(run.accounts(), read)

    assert sorted(a.name for a, _ in results) == sorted(a.name for a in accounts[:3] if a.name != broken)
    [missing] = run.missing
    assert (missing.client_account_id, missing.name) == (accounts[1].id, broken)
    assert missing.reason == "the platform refused the request"
    assert run.done(rows=0).missing == [missing]


def test_a_platform_settings_error_fails_the_whole_run_for_the_administrator(
        session, factory, tmp_path, sandbox):
    user, _, accounts = sandbox
    run = report_run(session, factory, tmp_path, user, accounts[:3])

    def read(call: AccountCall) -> int:
        if call.account.name == accounts[0].name:
            raise PlatformSettingsError("PPC_ROBOT_GOOGLE_ADS_VERSION names no API version", "x")
        return clicks_of_a_day(call)

    with pytest.raises(RunFailed, match="platform settings need the administrator") as failed:
        run.fetch(run.accounts(), read)

    assert failed.value.error_class is ErrorClass.CONFIGURATION


def test_when_no_account_can_be_read_a_refused_login_is_the_reason(session, factory, tmp_path, sandbox):
    user, _, accounts = sandbox
    run = report_run(session, factory, tmp_path, user, accounts[:2])

    def read(call: AccountCall) -> int:
        if call.account.name == accounts[0].name:
            raise InvalidCredentialsError("token revoked")
        raise BadRequestError("no such account")

    with pytest.raises(RunFailed, match="No client account could be read") as failed:
        run.fetch(run.accounts(), read)

    assert failed.value.error_class is ErrorClass.AUTHENTICATION


def test_an_attempt_is_tried_again_after_a_rate_limit_and_gives_up_after_the_last(monkeypatch):
    monkeypatch.setattr(fetch, "MAX_RETRY_WAIT", 0.0)
    calls = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RateLimitedError("slow down", retry_after=0.0)
        return "rows"

    def always_limited() -> str:
        raise RateLimitedError("slow down")

    assert fetch.retried(attempt) == "rows" and len(calls) == 3
    with pytest.raises(RateLimitedError):
        fetch.retried(always_limited)


def test_removed_accounts_are_missing_and_a_job_with_only_those_fails_in_words(
        session, factory, tmp_path, sandbox):
    user, _, accounts = sandbox
    accounts[0].status = ClientAccountStatus.REMOVED
    session.commit()
    some = report_run(session, factory, tmp_path, user, accounts[:2])
    only_removed = report_run(session, factory, tmp_path, user, accounts[:1])

    readable = some.accounts()

    assert [a.name for a in readable] == [accounts[1].name]
    assert [m.name for m in some.missing] == [accounts[0].name]
    with pytest.raises(RunFailed, match="no longer exists on the platform"):
        only_removed.accounts()
