"""The runner's machinery: claims, leases, outcomes, the scheduler tick, the embedded worker."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ppc_robot.lib.db import make_session_factory
from ppc_robot.lib.models import (
    Job,
    JobRun,
    Notification,
    RunStatus,
    RunTrigger,
    ScheduleKind,
    utcnow,
)
from ppc_robot.lib.runner import (
    EmbeddedWorker,
    ErrorClass,
    RunFailed,
    RunnerSettings,
    RunResult,
    claim_run,
    execute_run,
    register_executor,
    schedule_due_runs,
    tick,
)
from ppc_robot.lib.runner.lifecycle import LeaseLost, finish_run
from tests.factories import make_definition, make_job, make_user

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OUTCOMES: dict[int, list[object]] = {}
ATTEMPTED_AT: dict[int, list[datetime]] = {}


def scripted(context):
    """A task type for these tests: does what the job's parameters script, attempt by attempt."""
    script = context.parameters.get("script", ["ok"])
    step = script[min(len(OUTCOMES.setdefault(context.run_id, [])), len(script) - 1)]
    OUTCOMES[context.run_id].append(step)
    ATTEMPTED_AT.setdefault(context.run_id, []).append(utcnow())
    if step == "quota":
        retry_at = datetime.fromisoformat(context.parameters["retry_at"])
        raise RunFailed(f"quota exhausted, next attempt at {retry_at:%Y-%m-%d %H:%M} UTC.",
                        ErrorClass.QUOTA, retry_at=retry_at)
    if step == "transient":
        raise RunFailed("The platform answered 503.", ErrorClass.TRANSIENT)
    if step == "auth":
        raise RunFailed("The login expired.", ErrorClass.AUTHENTICATION)
    if step == "crash":
        raise ZeroDivisionError
    context.progress(1, 1)
    return RunResult(rows=7, output_file=f"run-{context.run_id}.csv")


register_executor("scripted", scripted)


@pytest.fixture(autouse=True)
def fresh_outcomes():
    OUTCOMES.clear()
    ATTEMPTED_AT.clear()


@pytest.fixture
def settings(tmp_path):
    return RunnerSettings(outputs_dir=tmp_path, lease_seconds=30, heartbeat_seconds=0.2,
                          max_attempts=3, worker_threads=4, tick_seconds=0.1)


@pytest.fixture
def factory(engine):
    return make_session_factory(engine)


def hourly(job, after):
    return after + timedelta(hours=1)


def queued_run(session, user, script=("ok",), retry_at=None, **job_options):
    parameters = {"script": list(script)} | ({"retry_at": retry_at.isoformat()} if retry_at else {})
    definition = make_definition(session, user, task_type="scripted", parameters=parameters)
    job = make_job(session, user, definition=definition, **job_options)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=NOW)
    session.add(run)
    session.commit()
    return run


@pytest.fixture
def owner(session):
    user = make_user(session)
    session.commit()
    return user


def test_a_run_is_claimed_by_one_worker_only(session, owner, settings):
    run = queued_run(session, owner)

    first = claim_run(session, run.id, "a", settings, now=NOW)
    second = claim_run(session, run.id, "b", settings, now=NOW)

    assert first is not None and first.attempt == 1
    assert second is None


def test_an_expired_lease_is_taken_over_and_the_old_worker_is_fenced_off(session, owner, settings):
    run = queued_run(session, owner)
    old = claim_run(session, run.id, "a", settings, now=NOW)

    new = claim_run(session, run.id, "b", settings, now=NOW + timedelta(seconds=31))

    assert new is not None and new.attempt == 2
    with pytest.raises(LeaseLost):
        finish_run(session, old, rows=1, output_file=None)


def test_a_successful_run_records_rows_output_and_the_jobs_last_status(session, owner, settings, factory):
    run = queued_run(session, owner)

    outcome = execute_run(factory, run.id, settings)

    session.expire_all()
    stored = session.get(JobRun, run.id)
    assert outcome == "succeeded"
    assert (stored.status, stored.rows, stored.output_file) == (RunStatus.SUCCEEDED, 7, f"run-{run.id}.csv")
    assert stored.finished_at is not None and "attempt 1 started" in stored.log
    assert session.get(Job, stored.job_id).last_run_status == RunStatus.SUCCEEDED


def test_a_transient_failure_is_retried_and_then_succeeds(session, owner, settings, factory):
    run = queued_run(session, owner, script=("transient", "ok"))

    first = execute_run(factory, run.id, settings)
    second = execute_run(factory, run.id, settings)

    session.expire_all()
    stored = session.get(JobRun, run.id)
    assert (first, second) == ("retry", "succeeded")
    assert stored.status == RunStatus.SUCCEEDED and stored.attempt == 2


def test_invalid_credentials_fail_at_once_with_a_notification(session, owner, settings, factory):
    run = queued_run(session, owner, script=("auth", "ok"))

    outcome = execute_run(factory, run.id, settings)

    session.expire_all()
    stored = session.get(JobRun, run.id)
    assert outcome == "failed"
    assert (stored.status, stored.error_class, stored.error_message) == (RunStatus.FAILED, "authentication", "The login expired.")
    [notification] = session.scalars(select(Notification).where(Notification.run_id == run.id)).all()
    assert notification.message.endswith("failed: The login expired.")


def test_a_crash_fails_the_run_with_a_reason_in_words(session, owner, settings, factory):
    run = queued_run(session, owner, script=("crash",))

    execute_run(factory, run.id, settings)

    session.expire_all()
    assert session.get(JobRun, run.id).error_message == "Unexpected error (ZeroDivisionError); it was logged."


def test_a_success_resolves_the_jobs_open_failure(session, owner, settings, factory):
    failing = queued_run(session, owner, script=("auth",))
    execute_run(factory, failing.id, settings)
    again = JobRun(user_id=owner.id, job_id=failing.job_id, scheduled_at=NOW + timedelta(hours=1))
    session.add(again)
    session.commit()
    session.get(Job, failing.job_id).definition.parameters = {"script": ["ok"]}
    session.commit()

    execute_run(factory, again.id, settings)

    session.expire_all()
    [notification] = session.scalars(select(Notification).where(Notification.job_id == failing.job_id)).all()
    assert notification.resolved_at is not None


def scheduled_job(session, user, next_run_at):
    job = make_job(session, user, schedule_kind=ScheduleKind.HOURLY)
    job.next_run_at = next_run_at
    session.commit()
    return job


def test_the_tick_records_one_run_per_due_job_and_advances_it(session, owner):
    due = scheduled_job(session, owner, NOW - timedelta(minutes=1))
    later = scheduled_job(session, owner, NOW + timedelta(minutes=5))

    result = schedule_due_runs(session, now=NOW, next_run=hourly)
    session.commit()

    assert len(result.run_ids) == 1
    [run] = session.scalars(select(JobRun)).all()
    assert (run.job_id, run.scheduled_at, run.trigger) == (due.id, NOW - timedelta(minutes=1), RunTrigger.SCHEDULE)
    session.refresh(due)
    session.refresh(later)
    assert due.next_run_at == NOW + timedelta(minutes=59)
    assert later.next_run_at == NOW + timedelta(minutes=5)


def test_a_repeated_tick_creates_nothing_more(session, owner):
    job = scheduled_job(session, owner, NOW - timedelta(minutes=1))
    schedule_due_runs(session, now=NOW, next_run=hourly)
    session.commit()
    job.next_run_at = NOW - timedelta(minutes=1)  # as if a second scheduler read the old value
    session.commit()

    again = schedule_due_runs(session, now=NOW, next_run=hourly)
    session.commit()

    assert again.run_ids == []
    assert session.scalar(select(func.count()).select_from(JobRun)) == 1


def test_after_downtime_one_catch_up_run_not_a_flood(session, owner):
    job = scheduled_job(session, owner, NOW - timedelta(days=3, minutes=30))

    result = schedule_due_runs(session, now=NOW, next_run=hourly)
    session.commit()

    [run] = session.scalars(select(JobRun)).all()
    assert len(result.run_ids) == 1
    assert run.trigger == RunTrigger.CATCH_UP
    assert run.scheduled_at == NOW - timedelta(minutes=30)
    session.refresh(job)
    assert job.next_run_at == NOW + timedelta(minutes=30)


def test_disabled_and_manual_jobs_are_not_scheduled(session, owner):
    disabled = scheduled_job(session, owner, NOW - timedelta(minutes=1))
    disabled.is_enabled = False
    manual = make_job(session, owner)
    manual.next_run_at = NOW - timedelta(minutes=1)
    session.commit()

    assert schedule_due_runs(session, now=NOW, next_run=hourly).run_ids == []


def test_the_embedded_worker_runs_everything_queued(session, owner, settings, factory):
    runs = [queued_run(session, owner, script=("transient", "ok") if n % 5 == 0 else ("ok",)) for n in range(30)]
    worker = EmbeddedWorker(factory, settings).start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = session.scalar(select(func.count()).select_from(JobRun).where(JobRun.status == RunStatus.SUCCEEDED))
            session.rollback()
            if done == len(runs):
                break
            threading.Event().wait(0.1)
    finally:
        worker.stop()

    statuses = session.scalars(select(JobRun.status)).all()
    assert statuses == [RunStatus.SUCCEEDED] * len(runs)


@pytest.mark.parametrize("first_day, last_day", [("2026-03-28", "2026-03-30"), ("2026-10-24", "2026-10-26")])
def test_a_daily_0230_job_runs_once_a_day_across_both_dst_changes(session, owner, first_day, last_day):
    job = make_job(session, owner, schedule_kind=ScheduleKind.DAILY, schedule={"time": "07:00"},
                   time_zone="Europe/Prague")
    # The editor refuses a new 02:30 in Prague (it falls in the spring gap); a job stored under
    # older zone rules can still hold it, and the scheduler must run it once on every day.
    job.schedule = {"time": "02:30"}
    start = datetime.fromisoformat(first_day).replace(tzinfo=UTC)
    job.next_run_at = start
    session.commit()

    for minutes in range(0, 72 * 60, 20):
        schedule_due_runs(session, now=start + timedelta(minutes=minutes))
        session.commit()

    scheduled = sorted(session.scalars(select(JobRun.scheduled_at)).all())
    local_days = [s.astimezone(ZoneInfo("Europe/Prague")).date().isoformat() for s in scheduled]
    assert local_days[1:] == sorted(set(local_days[1:]))  # never twice on one day
    assert local_days[-1] == last_day
    assert len(scheduled) == 4  # the catch-up at the start, then once on each of the three days


def test_the_workers_housekeeping_delivers_notifications_by_mail(session, owner, factory, tmp_path, smtp_server):
    from ppc_robot.lib.credentials import generate_key
    from ppc_robot.lib.models import utcnow
    from ppc_robot.lib.notifications import emit
    from ppc_robot.lib.notifications.channels import ChannelChoice, save_email_settings
    from ppc_robot.lib.runner.worker import housekeeping

    owner.email_verified_at = utcnow()
    save_email_settings(session, owner, ChannelChoice(True, "error", []), mode="immediate", digest_hour=8)
    job = make_job(session, owner)
    emit(session, owner.id, "report_failed", job_id=job.id, params={"job": job.name, "reason": "timeout"})
    session.commit()
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", instance_path=tmp_path,
                              app_config={**smtp_server.config(), "PPC_ROBOT_CREDENTIALS_KEY": generate_key(),
                                          "PPC_ROBOT_BASE_URL": "http://127.0.0.1:5000"})

    housekeeping(factory, settings)
    housekeeping(factory, settings)

    [mail] = smtp_server.messages
    assert mail["To"] == owner.email
    assert job.name in mail["Subject"] or job.name in mail.get_body(("plain",)).get_content()


def test_a_failed_run_and_an_overdue_run_are_each_mailed_once(session, owner, factory, tmp_path, smtp_server):
    from ppc_robot.lib.credentials import generate_key
    from ppc_robot.lib.models import utcnow
    from ppc_robot.lib.notifications.channels import ChannelChoice, save_email_settings
    from ppc_robot.lib.runner.worker import housekeeping, raise_overdue

    owner.email_verified_at = utcnow()
    save_email_settings(session, owner, ChannelChoice(True, "error", []), mode="immediate", digest_hour=8)
    session.commit()
    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", instance_path=tmp_path, heartbeat_seconds=0.2,
                              start_grace_seconds=60,
                              app_config={**smtp_server.config(), "PPC_ROBOT_CREDENTIALS_KEY": generate_key(),
                                          "PPC_ROBOT_BASE_URL": "http://127.0.0.1:5000"})
    failing = queued_run(session, owner, script=("auth",))
    execute_run(factory, failing.id, settings)
    stuck = queued_run(session, owner)
    stuck.scheduled_at = utcnow() - timedelta(hours=1)  # nobody picked it up for an hour
    session.commit()
    raise_overdue(session, settings)
    raise_overdue(session, settings)  # the watchdog looks again: still one notification
    session.commit()

    for _ in range(3):
        housekeeping(factory, settings)

    subjects = sorted(str(m["Subject"]) for m in smtp_server.messages)
    assert len(subjects) == 2, subjects
    assert any("failed" in s for s in subjects) and any("did not run" in s for s in subjects)


def test_the_housekeeping_removes_work_folders_a_killed_run_left_and_keeps_live_ones(factory, tmp_path):
    import os

    from ppc_robot.lib.credentials import generate_key
    from ppc_robot.lib.runner.worker import housekeeping

    settings = RunnerSettings(outputs_dir=tmp_path / "outputs", instance_path=tmp_path,
                              run_timeout_seconds=600,
                              app_config={"PPC_ROBOT_CREDENTIALS_KEY": generate_key()})
    left = settings.work_dir / "run7-abc"
    live = settings.work_dir / "run8-def"
    for folder in (left, live):
        folder.mkdir(parents=True)
        (folder / "rows-0.arrow").write_bytes(b"rows")
    two_timeouts_ago = time.time() - 2 * 600 - 60
    os.utime(left, (two_timeouts_ago, two_timeouts_ago))
    kept_report = settings.outputs_dir / "report.xlsx"
    kept_report.write_bytes(b"xlsx")

    housekeeping(factory, settings)

    assert not left.exists()
    assert (live / "rows-0.arrow").exists()
    assert kept_report.exists()


def test_an_exhausted_quota_reschedules_the_run_for_the_time_it_announced(session, owner, settings, factory):
    window = datetime(2099, 11, 25, 23, 50, tzinfo=UTC)
    run = queued_run(session, owner, script=("quota", "ok"), retry_at=window)

    outcome = execute_run(factory, run.id, settings)
    at_once = execute_run(factory, run.id, settings)
    dispatched: list[int] = []
    tick(factory, settings, dispatched.append)  # what the embedded worker and Celery beat do

    session.expire_all()
    stored = session.get(JobRun, run.id)
    assert (outcome, at_once, dispatched) == ("rescheduled", "not claimed", [])
    assert (stored.status, stored.next_attempt_at, stored.error_class) == (RunStatus.QUEUED, window, "quota")
    assert stored.error_message == "quota exhausted, next attempt at 2099-11-25 23:50 UTC."
    assert stored.attempt == 0  # waiting for a quota uses up none of the run's attempts
    assert OUTCOMES[run.id] == ["quota"]
    assert claim_run(session, run.id, "w", settings, now=window - timedelta(seconds=1)) is None
    session.rollback()
    assert tick(factory, settings, dispatched.append, now=window) == [run.id]
    assert claim_run(session, run.id, "w", settings, now=window) is not None


def test_the_embedded_worker_makes_no_attempt_before_the_quota_window(session, owner, settings, factory):
    window = utcnow() + timedelta(seconds=1.5)
    run = queued_run(session, owner, script=("quota", "ok"), retry_at=window)
    worker = EmbeddedWorker(factory, settings).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = session.scalar(select(JobRun.status).where(JobRun.id == run.id))
            session.rollback()
            if status == RunStatus.SUCCEEDED:
                break
            threading.Event().wait(0.05)
    finally:
        worker.stop()

    assert OUTCOMES[run.id] == ["quota", "ok"]  # ticks every 0.1 s, yet one attempt in the wait
    assert ATTEMPTED_AT[run.id][1] >= window


def test_a_run_waiting_for_its_quota_window_is_not_overdue(session, owner, settings):
    from ppc_robot.lib.runner.scheduler import overdue_runs

    run = queued_run(session, owner)
    run.scheduled_at = NOW - timedelta(hours=3)
    run.next_attempt_at = NOW + timedelta(hours=2)
    session.commit()

    late = overdue_runs(session, start_grace=timedelta(minutes=10), run_timeout=timedelta(hours=1), now=NOW)

    assert late == []
