"""The housekeeping step of the store against the Sandbox and the Google Ads stand-in: what
is pulled when, in how many requests, and what a failing login leaves behind."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault
from ppc_robot.lib.models import ClientAccount, ClientAccountStatus, Platform, ServiceAccount
from ppc_robot.lib.models.stats import AccountDay, CampaignDay, StatsState
from ppc_robot.lib.runner import RunnerSettings
from ppc_robot.lib.runner.worker import housekeeping
from ppc_robot.lib.stats import StatsSettings, create_missing_states, refresh_due_statistics
from tests.factories import make_user
from tests.stubs.google import Customer
from tests.support import platforms as platform_fixtures
from tests.support import runs as run_fixtures
from tests.support.platforms import google_settings
from tests.support.runs import KEY

google_stub = platform_fixtures.google_stub
factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
# 07:00 in Prague: yesterday (4 August) settled four hours ago.
NOW = datetime(2026, 8, 5, 5, 0, tzinfo=UTC)


def _settings(**overrides) -> StatsSettings:
    options = {"credentials_key": KEY, "rate_limit_wait_seconds": 0.0}
    options.update(overrides)
    return StatsSettings(**options)


def _google(stub, session, user=None):
    if "4440000000" not in stub.accessible:
        stub.accessible = ["1112223333"]  # not the empty manager, which has no metrics
    user = user or make_user(session)
    login, _ = link_service_account(session, user, Platform.GOOGLE_ADS,
                                    {"refresh_token": stub.issue_refresh_token()},
                                    vault=Vault([KEY]), settings=google_settings(stub))
    session.commit()
    return login


def _searches(stub) -> list:
    return [r for r in stub.requests if r.path.endswith("searchStream")
            and "FROM campaign" in r.json()["query"]]


def _state(factory, client_account_id) -> StatsState:
    with factory() as session:
        return session.get_one(StatsState, client_account_id)


def test_sandbox_accounts_are_refreshed_and_backfilled_in_one_step(factory, sandbox):
    _user, _login, accounts = sandbox

    report = refresh_due_statistics(factory, _settings(), NOW)

    assert report.created == len(accounts) and report.failed == 0
    assert report.refreshed == len(accounts) and report.backfilled == 5 * len(accounts)
    with factory() as session:
        days = session.execute(select(AccountDay.client_account_id, func.min(AccountDay.day),
                                      func.max(AccountDay.day), func.count())
                               .group_by(AccountDay.client_account_id)).all()
        campaign_days = session.scalar(select(func.count()).select_from(CampaignDay))
    assert {row[1:] for row in days} == {(date(2025, 7, 1), date(2026, 8, 4), 400)}
    assert campaign_days > 2 * 400 * len(accounts)
    state = _state(factory, accounts[0].id)
    assert state.refreshed_through == date(2026, 8, 4)
    assert state.backfill_done_from == state.backfill_from == date(2025, 7, 1)
    assert state.backfill_next_at is None and state.last_error is None


def test_the_next_refresh_waits_for_the_accounts_midnight_plus_the_settle_delay(factory, sandbox):
    _user, _login, accounts = sandbox
    prague = next(a for a in accounts if a.time_zone == "Europe/Prague")
    refresh_due_statistics(factory, _settings(), NOW)

    later = refresh_due_statistics(factory, _settings(), NOW + timedelta(hours=18))
    state = _state(factory, prague.id)

    assert later.refreshed == 0
    # 03:00 in Prague on 6 August (summer time, UTC+2).
    assert state.next_refresh_at == datetime(2026, 8, 6, 1, 0, tzinfo=UTC)
    after = refresh_due_statistics(factory, _settings(), datetime(2026, 8, 6, 1, 0, tzinfo=UTC))
    assert after.refreshed == len(accounts)
    assert _state(factory, prague.id).refreshed_through == date(2026, 8, 5)


def test_the_settle_delay_is_a_setting(factory, sandbox):
    _user, _login, accounts = sandbox
    prague = next(a for a in accounts if a.time_zone == "Europe/Prague")

    refresh_due_statistics(factory, _settings(settle_hours=6), NOW)

    assert _state(factory, prague.id).next_refresh_at == datetime(2026, 8, 6, 4, 0, tzinfo=UTC)


def test_a_refresh_is_one_request_per_account_and_a_backfill_a_constant_few(
        factory, session, google_stub):
    login = _google(google_stub, session)
    active = session.scalars(select(ClientAccount).where(
        ClientAccount.service_account_id == login.id,
        ClientAccount.status == ClientAccountStatus.ACTIVE)).all()
    settings = _settings(platform=google_settings(google_stub))

    refresh_due_statistics(factory, settings, NOW)

    queries = [r.json()["query"] for r in _searches(google_stub)]
    assert len(active) == 1 and len(queries) == 1 + 5
    assert sum("BETWEEN '2026-07-29' AND '2026-08-04'" in q for q in queries) == 1
    assert "campaign.id" in queries[0]
    with factory() as session:
        stored = session.execute(select(CampaignDay.day, CampaignDay.campaign_name,
                                        CampaignDay.cost_micros)
                                 .order_by(CampaignDay.day, CampaignDay.campaign_name)).all()
    assert stored[0] == (date(2026, 8, 1), "Brand CZ", 1234560000)
    assert len(stored) == 3

    google_stub.requests.clear()
    refresh_due_statistics(factory, settings, datetime(2026, 8, 6, 2, 0, tzinfo=UTC))
    assert len(_searches(google_stub)) == 1


def test_a_failing_login_leaves_the_others_fresh_and_retries_with_backoff(
        factory, session, google_stub):
    working = _google(google_stub, session)
    failing = _google(google_stub, session)
    token = Vault([KEY]).decrypt_json(failing.credentials_encrypted)["refresh_token"]
    google_stub.revoke(token)
    settings = _settings(platform=google_settings(google_stub), retry_seconds=300)
    google_stub.expire_access_tokens()

    report = refresh_due_statistics(factory, settings, NOW)

    def states(login):
        return session.scalars(select(StatsState).join(
            ClientAccount, ClientAccount.id == StatsState.client_account_id)
            .where(ClientAccount.service_account_id == login.id)
            .execution_options(populate_existing=True)).all()

    session.expire_all()
    assert report.failed >= 1
    fresh = states(working)
    assert fresh and all(s.refreshed_through == date(2026, 8, 4) and s.last_error is None
                         for s in fresh)
    stale = states(failing)
    assert stale and all(s.refreshed_through is None for s in stale)
    assert "re-authorise" in stale[0].last_error or "revoked" in stale[0].last_error
    assert stale[0].last_error_at == NOW
    assert stale[0].next_refresh_at == NOW + timedelta(seconds=300)
    assert session.get_one(ServiceAccount, failing.id).last_error


def test_retries_wait_twice_as_long_after_each_failure(factory, session, google_stub):
    login = _google(google_stub, session)
    settings = _settings(platform=google_settings(google_stub), retry_seconds=300,
                         backfill_months=0)
    ids = session.scalars(select(ClientAccount.id).where(
        ClientAccount.service_account_id == login.id,
        ClientAccount.status == ClientAccountStatus.ACTIVE)).all()
    bad_request = (400, {"queryError": "BAD_FIELD_NAME"}, None)

    google_stub.fail_next = [bad_request]
    refresh_due_statistics(factory, settings, NOW)
    first = _state(factory, ids[0])
    google_stub.fail_next = [bad_request]
    refresh_due_statistics(factory, settings, first.next_refresh_at)
    second = _state(factory, ids[0])

    assert first.attempts == 1 and first.next_refresh_at == NOW + timedelta(seconds=300)
    assert second.attempts == 2
    assert second.next_refresh_at == first.next_refresh_at + timedelta(seconds=600)
    refresh_due_statistics(factory, settings, second.next_refresh_at)
    third = _state(factory, ids[0])
    assert third.attempts == 0 and third.last_error is None
    assert third.refreshed_through == date(2026, 8, 4)


def test_an_interrupted_backfill_resumes_where_it_stopped(factory, session, google_stub):
    login = _google(google_stub, session)
    settings = _settings(platform=google_settings(google_stub), retry_seconds=60)
    account_id = session.scalar(select(ClientAccount.id).where(
        ClientAccount.service_account_id == login.id,
        ClientAccount.status == ClientAccountStatus.ACTIVE))
    seen = []

    def fail_second_chunk(request):
        body = request.body.decode()
        if "FROM campaign" in body and "2026-08-04" not in body:
            seen.append(body)
            if len(seen) == 1:
                google_stub.fail_next.append((400, {"queryError": "BAD_FIELD_NAME"}, None))

    with factory() as writing:  # the backfill alone: the refresh's request would race the knob
        create_missing_states(writing, NOW, settings)
        writing.execute(update(StatsState).values(next_refresh_at=NOW + timedelta(days=1)))
        writing.commit()
    google_stub.on_request = fail_second_chunk
    refresh_due_statistics(factory, settings, NOW)
    stopped = _state(factory, account_id)
    google_stub.requests.clear()
    refresh_due_statistics(factory, settings, NOW + timedelta(seconds=60))
    resumed = _state(factory, account_id)

    assert stopped.backfill_done_from == date(2026, 5, 5)  # the first chunk is kept
    assert stopped.backfill_next_at == NOW + timedelta(seconds=60)
    assert stopped.last_error
    assert len(_searches(google_stub)) == 4  # the four chunks left, none again
    assert resumed.backfill_done_from == date(2025, 7, 1) and resumed.backfill_next_at is None
    with factory() as check:
        keys = check.execute(select(CampaignDay.campaign_id, CampaignDay.day)).all()
        days = check.scalar(select(func.count()).select_from(AccountDay))
    assert len(keys) == len(set(keys)) == 3
    assert days == (date(2026, 8, 4) - date(2025, 7, 1)).days + 1


def test_two_steps_at_once_pull_each_account_once(factory, session, google_stub):
    children = [f"{4000000000 + n}" for n in range(6)]
    google_stub.add(Customer("4440000000", "Second MCC", manager=True, children=children))
    for n, customer in enumerate(children):
        google_stub.add(Customer(customer, f"Shop {n}", campaigns={
            "Brand": [(date(2026, 8, 3), 100, 10, 5_000_000, 1.0, 50.0)]}))
    google_stub.accessible = ["4440000000"]
    _google(google_stub, session)
    settings = _settings(platform=google_settings(google_stub), backfill_months=0)
    start = threading.Barrier(2)
    errors = []

    def step():
        try:
            start.wait(timeout=10)
            refresh_due_statistics(factory, settings, NOW)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=step) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(_searches(google_stub)) == 6
    with factory() as check:
        assert check.scalar(select(func.count()).select_from(AccountDay)) == 6 * 7
        assert check.scalar(select(func.count()).select_from(CampaignDay)) == 6


def test_removed_accounts_and_inactive_users_are_left_alone(factory, session, sandbox):
    user, _login, accounts = sandbox
    accounts[0].status = ClientAccountStatus.REMOVED
    session.commit()

    report = refresh_due_statistics(factory, _settings(backfill_months=0), NOW)
    assert report.refreshed == len(accounts) - 1

    user.is_active = False
    session.commit()
    later = refresh_due_statistics(factory, _settings(backfill_months=0),
                                   NOW + timedelta(days=2))
    assert later.refreshed == 0


@pytest.mark.parametrize("months", [0, 13])
def test_the_worker_housekeeping_keeps_the_store(factory, sandbox, tmp_path, months):
    _user, _login, accounts = sandbox
    runner = RunnerSettings(outputs_dir=tmp_path, app_config={
        "PPC_ROBOT_CREDENTIALS_KEY": KEY, "PPC_ROBOT_STATS_BACKFILL_MONTHS": str(months)})

    housekeeping(factory, runner, now=NOW)

    with factory() as check:
        stored = check.scalar(select(func.count()).select_from(AccountDay))
    assert stored == len(accounts) * (7 if months == 0 else 400)
