"""Executing one run: claim it, keep its lease alive, call its task type, record the outcome.

Each call opens its own sessions (never shares one across threads); the run id is the
idempotency key, so a run delivered twice is executed at most once at a time and recorded
once.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models import Job, JobRun, utcnow
from ppc_robot.lib.models.jobs import jobs_client_accounts
from ppc_robot.lib.notifications import emit, resolve
from ppc_robot.lib.output_delivery import plan_output_deliveries
from ppc_robot.lib.runner.lifecycle import (
    Claim,
    ErrorClass,
    LeaseLost,
    RunFailed,
    claim_run,
    fail_run,
    finish_run,
    heartbeat,
    release_for_retry,
    reschedule_run,
)
from ppc_robot.lib.runner.settings import RunnerSettings
from ppc_robot.lib.times import LOG_TIME_FORMAT

logger = logging.getLogger(__name__)
RETRYABLE = {ErrorClass.TRANSIENT, ErrorClass.QUOTA}


def worker_name() -> str:
    return f"{socket.gethostname()}:{threading.get_native_id()}"


@dataclass
class RunContext:
    """What a task type gets: the run's inputs and ways to report progress."""

    run_id: int
    job_id: int
    job_name: str
    user_id: int
    task_type: str
    task_type_version: int
    output_type: str
    parameters: dict[str, Any]
    output_path: str
    output_state: dict[str, Any]
    time_zone: str
    client_account_ids: list[int]
    scheduled_at: datetime
    settings: RunnerSettings
    session_factory: sessionmaker[Session]
    lines: list[str] = field(default_factory=list)
    done: int = 0
    total: int = 0

    def log(self, message: str) -> None:
        # The full UTC instant: the run page shows it in its viewer's zone (lib/times.py).
        self.lines.append(f"{utcnow():{LOG_TIME_FORMAT}} {message}")

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def output_dir(self) -> Path:
        return self.settings.outputs_dir / str(self.user_id) / str(self.job_id)


@dataclass(frozen=True)
class MissingAccount:
    client_account_id: int
    name: str
    reason: str


@dataclass
class RunResult:
    rows: int
    output_file: str | None = None
    missing: list[MissingAccount] = field(default_factory=list)
    output_state: dict[str, Any] | None = None


TaskExecutor = Callable[[RunContext], RunResult]
_EXECUTORS: dict[str, TaskExecutor] = {}


def register_executor(task_type: str, executor: TaskExecutor) -> None:
    """Make runs of `task_type` execute with `executor` (report types register themselves)."""
    _EXECUTORS[task_type] = executor


def load_report_types() -> None:
    """Import every module of ppc_robot.lib.reports: report types register their executors.

    Workers call this when they start, so that no run pays the import (polars and XlsxWriter
    take a few tenths of a second the first time).
    """
    import ppc_robot.lib.reports as reports

    for module in pkgutil.iter_modules(reports.__path__):
        importlib.import_module(f"ppc_robot.lib.reports.{module.name}")


def executor_for(task_type: str) -> TaskExecutor:
    if task_type not in _EXECUTORS:
        load_report_types()
    try:
        return _EXECUTORS[task_type]
    except KeyError:
        raise RunFailed(N_("The report type “%(name)s” is not available.") % {"name": task_type}) from None


class _Heartbeat(threading.Thread):
    """Renews the lease and writes progress until stopped; notices a lost lease."""

    def __init__(self, factory: sessionmaker[Session], claim: Claim, context: RunContext) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{claim.run_id}")
        self.factory, self.claim, self.context = factory, claim, context
        self.stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        interval = self.context.settings.heartbeat_seconds
        while not self.stopped.wait(interval):
            try:
                with self.factory() as session:
                    heartbeat(session, self.claim, self.context.settings,
                              done=self.context.done, total=self.context.total)
                    session.commit()
            except LeaseLost:
                self.lost = True
                return
            except Exception:
                logger.exception("heartbeat of run %s failed", self.claim.run_id)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def _load_context(session: Session, run_id: int, settings: RunnerSettings,
                  factory: sessionmaker[Session]) -> RunContext:
    run = session.get_one(JobRun, run_id)
    job = session.get_one(Job, run.job_id)
    definition = job.definition
    account_ids = list(session.scalars(
        select(jobs_client_accounts.c.client_account_id).where(jobs_client_accounts.c.job_id == job.id)
    ))
    return RunContext(
        run_id=run.id, job_id=job.id, job_name=job.name, user_id=job.user_id,
        task_type=definition.task_type, task_type_version=definition.task_type_version,
        output_type=definition.output_type.value, parameters=dict(definition.parameters),
        output_path=job.output_path, output_state=dict(job.output_state or {}),
        time_zone=job.time_zone,
        client_account_ids=account_ids, scheduled_at=run.scheduled_at, settings=settings,
        session_factory=factory,
    )


def execute_run(
    factory: sessionmaker[Session], run_id: int, settings: RunnerSettings, *, worker: str | None = None,
) -> str:
    """Execute the run if nobody else holds it; returns what happened, for logs and tests."""
    with factory() as session:
        claim = claim_run(session, run_id, worker or worker_name(), settings)
        session.commit()
        if claim is None:
            return "not claimed"
        try:
            context = _load_context(session, run_id, settings, factory)
        except Exception:
            logger.exception("run %s could not be loaded", run_id)
            fail_run(session, claim, "The job could not be loaded.", ErrorClass.INTERNAL)
            session.commit()
            return "failed"

    pulse = _Heartbeat(factory, claim, context)
    pulse.start()
    result: RunResult | None = None
    failure: RunFailed | None = None
    try:
        context.log(N_("attempt %(attempt)d started") % {"attempt": claim.attempt})
        result = executor_for(context.task_type)(context)
    except RunFailed as exc:
        failure = exc
    except Exception as exc:
        logger.exception("run %s crashed", run_id)
        failure = RunFailed(N_("Unexpected error (%(error)s); it was logged.") % {"error": type(exc).__name__},
                            ErrorClass.INTERNAL)
    finally:
        pulse.stop()
    if pulse.lost:
        logger.warning("run %s was taken over by another worker; nothing recorded", run_id)
        return "lease lost"
    return _record(factory, claim, context, result, failure, settings)


def _record(factory: sessionmaker[Session], claim: Claim, context: RunContext,
            result: RunResult | None, failure: RunFailed | None, settings: RunnerSettings) -> str:
    log = "\n".join(context.lines)
    with factory() as session:
        try:
            if failure is not None:
                if failure.error_class is ErrorClass.QUOTA and failure.retry_at is not None:
                    context.log(N_("rescheduled for %(when)s UTC")
                                % {"when": f"{failure.retry_at:%Y-%m-%d %H:%M}"})
                    reschedule_run(session, claim, str(failure), failure.retry_at,
                                   log="\n".join(context.lines))
                    session.commit()
                    return "rescheduled"
                if failure.error_class in RETRYABLE and claim.attempt < settings.max_attempts:
                    release_for_retry(session, claim, str(failure), failure.error_class, log=log)
                    session.commit()
                    return "retry"
                fail_run(session, claim, str(failure), failure.error_class, log=log)
                emit(session, context.user_id, "report_failed", job_id=context.job_id,
                     run_id=context.run_id, params={"job": context.job_name, "reason": str(failure)})
                session.commit()
                return "failed"
            assert result is not None
            missing = "; ".join(f"{m.name}: {m.reason}" for m in result.missing) or None
            status = finish_run(session, claim, rows=result.rows, output_file=result.output_file,
                                log=log, missing=missing, progress=(context.done, context.total))
            job = session.get_one(Job, context.job_id)
            if result.output_state is not None:
                job.output_state = result.output_state
            plan_output_deliveries(session, session.get_one(JobRun, context.run_id), job)
            resolve(session, context.user_id, "report_failed", job_id=context.job_id)
            for account in result.missing:
                emit(session, context.user_id, "account_missing_from_report", job_id=context.job_id,
                     run_id=context.run_id, client_account_id=account.client_account_id,
                     params={"job": context.job_name, "account": account.name, "reason": account.reason})
            session.commit()
            return status.value
        except LeaseLost:
            session.rollback()
            return "lease lost"
