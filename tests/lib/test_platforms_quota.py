"""The per-login quota limiter: shared through the database, per minute and per day."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ppc_robot.lib.accounts import link_service_account, sync_service_account
from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.db import make_engine
from ppc_robot.lib.models import Notification, Platform, PlatformQuota, ServiceAccountStatus
from ppc_robot.lib.platforms import QuotaExhaustedError, RateLimitedError
from ppc_robot.lib.platforms.quota import QuotaLimiter
from tests.factories import Workspace
from tests.stubs.sklik import SklikStub
from tests.support import platforms as platform_fixtures
from tests.support.platforms import SKLIK_TOKEN, stub_settings

sklik_stub = platform_fixtures.sklik_stub
NOON = datetime(2026, 8, 1, 12, 0, 30, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_daily_quota_is_shared_by_two_processes(session: Session, workspace: Workspace,
                                               database_url: str) -> None:
    other_process = make_engine(database_url)
    clock = Clock(NOON)
    login_id = workspace.service_account.id
    first = QuotaLimiter(session.get_bind(), login_id, {"day": 3}, platform_label="Google Ads",
                         clock=clock)
    second = QuotaLimiter(other_process, login_id, {"day": 3}, clock=clock)
    first.acquire()
    second.acquire()
    first.acquire()
    with pytest.raises(QuotaExhaustedError, match="quota exhausted, next attempt at "
                                                  "2026-08-02 00:00 UTC") as caught:
        second.acquire()
    assert caught.value.next_attempt_at == datetime(2026, 8, 2, tzinfo=UTC)
    clock.now = NOON + timedelta(days=1)
    second.acquire()
    other_process.dispose()


def test_minute_limit_says_how_long_to_wait(session: Session, workspace: Workspace) -> None:
    clock = Clock(NOON)
    limiter = QuotaLimiter(session.get_bind(), workspace.service_account.id,
                           {"minute": 2, "day": 100}, clock=clock)
    limiter.acquire()
    limiter.acquire()
    with pytest.raises(RateLimitedError) as caught:
        limiter.acquire()
    assert caught.value.retry_after == 30
    clock.now = NOON + timedelta(seconds=30)
    limiter.acquire()


def test_concurrent_callers_never_exceed_the_limit(session: Session, workspace: Workspace) -> None:
    limiter = QuotaLimiter(session.get_bind(), workspace.service_account.id, {"day": 25},
                           clock=lambda: NOON)
    granted, refused = [], []

    def caller() -> None:
        for _ in range(10):
            try:
                limiter.acquire()
                granted.append(1)
            except QuotaExhaustedError:
                refused.append(1)

    threads = [threading.Thread(target=caller) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(granted), len(refused)) == (25, 25)


def test_sync_over_quota_stops_calling_and_notifies(session: Session, workspace: Workspace,
                                                   sklik_stub: SklikStub) -> None:
    vault = Vault([generate_key()])
    settings = stub_settings(sklik_url=sklik_stub.base_url,
                             quota_overrides={"PPC_ROBOT_QUOTA_SKLIK_DAY": "2"})
    login, _ = link_service_account(session, workspace.user, Platform.SKLIK,
                                    {"token": SKLIK_TOKEN}, vault=vault, settings=settings)
    session.commit()
    calls_before = len(sklik_stub.requests)
    result = sync_service_account(session, login, vault=vault, settings=settings)
    assert result.ok  # login + client.get: two calls
    sklik_stub.expire_sessions()
    result = sync_service_account(session, login, vault=vault, settings=settings)
    assert "quota exhausted, next attempt at" in (result.error or "")
    assert len(sklik_stub.requests) == calls_before + 2
    assert login.status is ServiceAccountStatus.RATE_LIMITED
    assert login.next_sync_at is not None and login.next_sync_at.hour == 0
    kinds = session.scalars(select(Notification.code).where(Notification.category == 3)).all()
    assert kinds == [0]


def test_a_later_successful_sync_resolves_the_quota_notification(
        session: Session, workspace: Workspace, sklik_stub: SklikStub) -> None:
    vault = Vault([generate_key()])
    tight = stub_settings(sklik_url=sklik_stub.base_url,
                          quota_overrides={"PPC_ROBOT_QUOTA_SKLIK_DAY": "0"})
    login, _ = link_service_account(session, workspace.user, Platform.SKLIK,
                                    {"token": SKLIK_TOKEN}, vault=vault, settings=tight)
    session.commit()
    assert not sync_service_account(session, login, vault=vault, settings=tight).ok
    roomy = stub_settings(sklik_url=sklik_stub.base_url)
    assert sync_service_account(session, login, vault=vault, settings=roomy).ok
    assert login.status is ServiceAccountStatus.VALID
    resolved = session.scalars(select(Notification.resolved_at).where(
        Notification.category == 3)).all()
    assert len(resolved) == 1 and resolved[0] is not None


def _used(session: Session, login_id: int) -> dict[str, int]:
    session.rollback()  # a new transaction sees what the limiter committed since
    return {q.period: q.used for q in session.scalars(
        select(PlatformQuota).where(PlatformQuota.service_account_id == login_id))}


def test_a_planned_run_counts_once_and_gives_back_what_it_did_not_use(
        session: Session, workspace: Workspace, count_queries) -> None:
    login_id = workspace.service_account.id
    limiter = QuotaLimiter(session.get_bind(), login_id, {"minute": 100, "day": 1000},
                           clock=lambda: NOON)
    limiter.plan(30)

    with count_queries() as writes:
        for _ in range(7):
            limiter.acquire()
    counted_ahead = _used(session, login_id)
    limiter.release()

    # never fewer than the calls made; of a minute's limit a tenth at a time
    assert counted_ahead == {"minute": 10, "day": 30}
    assert _used(session, login_id) == {"minute": 7, "day": 7}
    assert len([q for q in writes.statements if q.lstrip().upper().startswith(("UPDATE", "INSERT"))]) <= 4


def test_planned_calls_never_pass_the_limit_and_fall_back_to_one_at_a_time(
        session: Session, workspace: Workspace, database_url: str) -> None:
    other_process = make_engine(database_url)
    login_id = workspace.service_account.id
    first = QuotaLimiter(session.get_bind(), login_id, {"day": 12}, clock=lambda: NOON)
    second = QuotaLimiter(other_process, login_id, {"day": 12}, clock=lambda: NOON)
    first.plan(8)
    second.plan(8)

    first.acquire()  # counts 8 ahead
    granted = 0
    for _ in range(8):
        try:
            second.acquire()  # 8 do not fit any more: one at a time, 4 of them
            granted += 1
        except QuotaExhaustedError:
            pass
    for _ in range(7):
        first.acquire()
    second.release()
    first.release()
    other_process.dispose()

    assert granted == 4
    assert _used(session, login_id) == {"day": 12}


def test_a_whole_plan_takes_the_days_slots_for_all_its_calls_or_none(
        session: Session, workspace: Workspace, database_url: str) -> None:
    other_process = make_engine(database_url)
    login_id = workspace.service_account.id
    other = QuotaLimiter(other_process, login_id, {"day": 12}, clock=lambda: NOON)
    other.plan(5)
    other.acquire()  # another run holds 5 of the day's 12
    whole = QuotaLimiter(session.get_bind(), login_id, {"day": 12}, clock=lambda: NOON)
    whole.plan(8, whole=True)

    with pytest.raises(QuotaExhaustedError, match="next attempt at 2026-08-02 00:00 UTC"):
        whole.acquire()  # 7 left: not one call of the 8
    counted_before = _used(session, login_id)
    other.release()  # the other run used only 1
    whole.acquire()
    counted_after = _used(session, login_id)
    too_big = QuotaLimiter(session.get_bind(), login_id, {"day": 12}, clock=lambda: NOON)
    too_big.plan(50, whole=True)  # more than the day has at all: one at a time, as usual
    too_big.acquire()
    whole.release()
    too_big.release()
    other_process.dispose()

    assert counted_before == {"day": 5}
    assert counted_after == {"day": 1 + 8}
    assert _used(session, login_id) == {"day": 1 + 1 + 1}


def test_slots_held_for_a_minute_that_has_ended_lapse(session: Session,
                                                      workspace: Workspace) -> None:
    clock = Clock(NOON)
    login_id = workspace.service_account.id
    limiter = QuotaLimiter(session.get_bind(), login_id, {"minute": 50, "day": 100}, clock=clock)
    limiter.plan(5)
    limiter.acquire()
    limiter.acquire()

    clock.now = NOON + timedelta(minutes=1)
    limiter.acquire()  # counted in the new minute, not taken from the old one's slots
    counted = _used(session, login_id)
    limiter.release()

    assert counted == {"minute": 3, "day": 5}
    assert _used(session, login_id) == {"minute": 1, "day": 3}
