"""A run's states, moved by single fenced UPDATEs so two workers can never both own a run.

queued → running (claim, with a lease) → succeeded | partial | failed. A running run whose
lease ran out (its worker died) may be claimed again; every later write names the lease token
it holds, so the stale worker's writes change nothing. A run that met an exhausted quota goes
back to queued with the time of its next attempt, and nobody claims it before then.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.orm import Session

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Job, JobRun, RunStatus, utcnow
from ppc_robot.lib.runner.settings import RunnerSettings


class ErrorClass(enum.StrEnum):
    TRANSIENT = "transient"
    QUOTA = "quota"
    AUTHENTICATION = "authentication"
    CONFIGURATION = "configuration"
    DATA = "data"
    INTERNAL = "internal"
    OVERDUE = "overdue"


class RunFailed(Exception):
    """A run cannot succeed; the message is for the user, `error_class` for the retry rules.

    `retry_at` (an exhausted quota) is when the platform will take calls again: the run waits
    for it instead of being retried at once.
    """

    def __init__(self, message: str, error_class: ErrorClass = ErrorClass.CONFIGURATION,
                 *, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.retry_at = retry_at


class LeaseLost(Exception):
    """Another worker took the run over: stop without writing anything."""


@dataclass(frozen=True)
class Claim:
    run_id: int
    token: str
    attempt: int


def is_due(now: datetime) -> ColumnElement[bool]:
    """True for a queued run that may be attempted at `now` (not waiting for a quota window)."""
    return or_(JobRun.next_attempt_at.is_(None), JobRun.next_attempt_at <= now)


def claim_run(
    session: Session, run_id: int, worker: str, settings: RunnerSettings, *, now: datetime | None = None
) -> Claim | None:
    """Take the run if it is queued, or running with an expired lease; None when someone has it."""
    now = now or utcnow()
    token = secrets.token_hex(16)
    claimable = or_(
        and_(JobRun.status == RunStatus.QUEUED, is_due(now)),
        and_(JobRun.status == RunStatus.RUNNING, JobRun.lease_expires_at < now),
    )
    result = session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, claimable, JobRun.attempt < settings.max_attempts)
        .values(
            status=RunStatus.RUNNING,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=settings.lease_seconds),
            heartbeat_at=now,
            worker=worker[:128],
            attempt=JobRun.attempt + 1,
            started_at=now,
            next_attempt_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    attempt = session.get_one(JobRun, run_id, populate_existing=True).attempt
    return Claim(run_id, token, attempt)


def heartbeat(
    session: Session, claim: Claim, settings: RunnerSettings, *, done: int | None = None,
    total: int | None = None, now: datetime | None = None,
) -> None:
    """Extend the lease and record progress; raises LeaseLost when the run is no longer ours."""
    now = now or utcnow()
    values: dict[str, object] = {
        "lease_expires_at": now + timedelta(seconds=settings.lease_seconds),
        "heartbeat_at": now,
    }
    if done is not None:
        values["progress_done"] = done
    if total is not None:
        values["progress_total"] = total
    _fenced_update(session, claim, values)


def _fenced_update(session: Session, claim: Claim, values: dict[str, object]) -> None:
    result = session.execute(
        update(JobRun)
        .where(JobRun.id == claim.run_id, JobRun.lease_token == claim.token,
               JobRun.status == RunStatus.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"run {claim.run_id} is no longer held by this worker")


def finish_run(
    session: Session, claim: Claim, *, rows: int, output_file: str | None, log: str = "",
    missing: str | None = None, progress: tuple[int, int] | None = None,
    now: datetime | None = None,
) -> RunStatus:
    """Mark the run succeeded, or partial when `missing` names client accounts left out."""
    now = now or utcnow()
    status = RunStatus.PARTIAL if missing else RunStatus.SUCCEEDED
    if progress is not None:
        _fenced_update(session, claim, {"progress_done": progress[0], "progress_total": progress[1]})
    _fenced_update(session, claim, {
        "status": status, "finished_at": now, "rows": rows,
        "output_file": output_file, "log": log, "error_message": missing,
        "error_class": None, "lease_expires_at": None,
    })
    _record_on_job(session, claim.run_id, status, now)
    return status


def fail_run(
    session: Session, claim: Claim, message: str, error_class: ErrorClass, *, log: str = "",
    now: datetime | None = None,
) -> None:
    """Mark the run failed with the reason in words."""
    now = now or utcnow()
    _fenced_update(session, claim, {
        "status": RunStatus.FAILED, "finished_at": now, "error_message": message,
        "error_class": error_class.value, "log": log, "lease_expires_at": None,
    })
    _record_on_job(session, claim.run_id, RunStatus.FAILED, now)


def release_for_retry(
    session: Session, claim: Claim, message: str, error_class: ErrorClass, *, log: str = ""
) -> None:
    """Put the run back in the queue after a temporary failure (the attempt stays counted)."""
    _fenced_update(session, claim, {
        "status": RunStatus.QUEUED, "lease_token": None, "lease_expires_at": None,
        "error_message": message, "error_class": error_class.value, "log": log,
    })


def reschedule_run(session: Session, claim: Claim, message: str, next_attempt_at: datetime,
                   *, log: str = "") -> None:
    """Put the run back in the queue until `next_attempt_at` (an exhausted quota's window).

    The attempt is given back: the platform refused to be called, so the run did not fail,
    and a run waiting for quota windows is never failed for having waited too often.
    """
    _fenced_update(session, claim, {
        "status": RunStatus.QUEUED, "lease_token": None, "lease_expires_at": None,
        "next_attempt_at": next_attempt_at, "attempt": JobRun.attempt - 1,
        "error_message": message, "error_class": ErrorClass.QUOTA.value, "log": log,
    })


def _record_on_job(session: Session, run_id: int, status: RunStatus, now: datetime) -> None:
    run = session.get_one(JobRun, run_id, populate_existing=True)
    session.execute(
        update(Job).where(Job.id == run.job_id)
        .values(last_run_at=now, last_run_status=status)
        .execution_options(synchronize_session=False)
    )


def fail_exhausted_runs(session: Session, settings: RunnerSettings, *, now: datetime | None = None) -> list[int]:
    """Runs whose lease expired after their last allowed attempt: failed, never lost."""
    now = now or utcnow()
    stale = session.scalars(
        JobRun.__table__.select()
        .with_only_columns(JobRun.id)
        .where(JobRun.status == RunStatus.RUNNING, JobRun.lease_expires_at < now,
               JobRun.attempt >= settings.max_attempts)
    ).all()
    for run_id in stale:
        session.execute(
            update(JobRun).where(JobRun.id == run_id, JobRun.status == RunStatus.RUNNING,
                                 JobRun.lease_expires_at < now)
            .values(status=RunStatus.FAILED, finished_at=now, lease_expires_at=None,
                    error_class=ErrorClass.INTERNAL.value,
                    error_message=N_("The worker running this report stopped and every retry was used up."))
            .execution_options(synchronize_session=False)
        )
        _record_on_job(session, run_id, RunStatus.FAILED, now)
    return list(stale)
