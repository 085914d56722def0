"""The scheduler tick shared by both queues, and the embedded worker (tick + thread pool)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ppc_robot.lib.models import utcnow
from ppc_robot.lib.notifications import emit
from ppc_robot.lib.runner.execute import execute_run, load_report_types
from ppc_robot.lib.runner.lifecycle import fail_exhausted_runs
from ppc_robot.lib.runner.scheduler import overdue_runs, runs_to_dispatch, schedule_due_runs
from ppc_robot.lib.runner.settings import RunnerSettings
from ppc_robot.lib.times import named_local_text, user_zone_name

logger = logging.getLogger(__name__)

Enqueue = Callable[[int], None]


def raise_overdue(session: Session, settings: RunnerSettings, *, now: datetime | None = None) -> int:
    """Notify about runs that never started in time or never finished: the run that never happened."""
    now = now or utcnow()
    late = overdue_runs(session, start_grace=timedelta(seconds=settings.start_grace_seconds),
                        run_timeout=timedelta(seconds=settings.run_timeout_seconds), now=now)
    for run in late:
        reason = ("it has not started; is a worker running?" if run.started_at is None
                  else "it has been running longer than allowed")
        emit(session, run.user_id, "run_overdue", job_id=run.job_id, run_id=run.id,
             entity_id=str(run.id), now=now,
             params={"job": run.job.name,
                     "scheduled": named_local_text(run.scheduled_at,
                                                   user_zone_name(session, run.user_id)),
                     "reason": reason})
    return len(late)


def tick(factory: sessionmaker[Session], settings: RunnerSettings, enqueue: Enqueue,
         *, now: datetime | None = None) -> list[int]:
    """One scheduler step: record due runs, fail exhausted ones, watch, and dispatch."""
    with factory() as session:
        schedule_due_runs(session, now=now)
        fail_exhausted_runs(session, settings, now=now)
        raise_overdue(session, settings, now=now)
        session.commit()
        to_dispatch = runs_to_dispatch(session, now=now)
    for run_id in to_dispatch:
        enqueue(run_id)
    return to_dispatch


def housekeeping(factory: sessionmaker[Session], settings: RunnerSettings,
                 *, now: datetime | None = None) -> None:
    """The worker's other duties: deliver notifications, digests and output mails, sync due logins,
    keep the statistics store and the ECB exchange rates fresh.

    Each part fails on its own: a broken SMTP server never stops account syncs or runs.
    """
    from ppc_robot.lib.accounts import sync_due_service_accounts, vault_from_config
    from ppc_robot.lib.notifications.delivery import DeliveryConfig, run_deliveries
    from ppc_robot.lib.output_delivery import OutputMailConfig, deliver_outputs
    from ppc_robot.lib.platforms import PlatformSettings

    config = settings.app_config
    instance = settings.instance_path or settings.outputs_dir.parent
    try:
        run_deliveries(factory, DeliveryConfig.from_config(config, instance), now=now)
    except Exception:
        logger.exception("notification delivery failed")
    try:
        deliver_outputs(factory, OutputMailConfig.from_config(config, instance, settings.outputs_dir),
                        now=now)
    except Exception:
        logger.exception("output delivery failed")
    try:
        with factory() as session:
            sync_due_service_accounts(
                session, now or utcnow(), settings=PlatformSettings.from_mapping(config),
                vault=vault_from_config(str(config.get("PPC_ROBOT_CREDENTIALS_KEY", ""))))
            session.commit()
    except Exception:
        logger.exception("account sync failed")
    try:
        sweep_work_folders(settings, now=now)
    except OSError:
        logger.exception("sweeping the runs' work folders failed")
    try:
        refresh_statistics(factory, settings, now=now)
    except Exception:
        logger.exception("statistics refresh failed")
    try:
        refresh_rates(factory, settings, now=now)
    except Exception:
        logger.exception("exchange rates refresh failed")


def refresh_statistics(factory: sessionmaker[Session], settings: RunnerSettings,
                       *, now: datetime | None = None) -> None:
    """The statistics store's step: daily re-pulls of settled days, and backfills."""
    from ppc_robot.lib.stats import StatsSettings, refresh_due_statistics

    refresh_due_statistics(factory, StatsSettings.from_config(settings.app_config),
                           now or utcnow())


def refresh_rates(factory: sessionmaker[Session], settings: RunnerSettings,
                  *, now: datetime | None = None) -> int:
    """The ECB's euro reference rates, fetched when the table lacks a published day."""
    from ppc_robot.lib.exchange_rates import refresh_exchange_rates

    return refresh_exchange_rates(factory, settings.app_config, now)


def sweep_work_folders(settings: RunnerSettings, *, now: datetime | None = None) -> list[Path]:
    """Remove the work folders that runs of a killed worker left behind (a run removes its own
    when it ends). Only folders untouched for twice the run timeout go: no live run is that old.
    """
    if not settings.work_dir.is_dir():
        return []
    cutoff = (now or utcnow()).timestamp() - 2 * settings.run_timeout_seconds
    removed = []
    for folder in settings.work_dir.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        logger.info("removed %d work folders left by killed runs", len(removed))
    return removed


class EmbeddedWorker:
    """Scheduler tick and a thread pool in one process: the default, no set-up needed."""

    def __init__(self, factory: sessionmaker[Session], settings: RunnerSettings) -> None:
        self.factory, self.settings = factory, settings
        self._pool = ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="run")
        self._inflight: set[int] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._wake = threading.Event()  # interrupts the loop's wait: housekeeping at once
        self._chores_wanted = False
        self._loop: threading.Thread | None = None

    def enqueue(self, run_id: int) -> None:
        with self._lock:
            if run_id in self._inflight or self._stopped.is_set():
                return
            self._inflight.add(run_id)
        self._pool.submit(self._execute, run_id)

    def _execute(self, run_id: int) -> None:
        try:
            execute_run(self.factory, run_id, self.settings)
        except Exception:
            logger.exception("run %s: the worker failed outside the run", run_id)
        finally:
            with self._lock:
                self._inflight.discard(run_id)

    def tick(self, *, now: datetime | None = None) -> list[int]:
        return tick(self.factory, self.settings, self.enqueue, now=now)

    def wake_housekeeping(self) -> None:
        """Run the housekeeping now rather than at its next interval (e.g. "Refresh now")."""
        self._chores_wanted = True
        self._wake.set()

    def idle(self) -> bool:
        with self._lock:
            return not self._inflight

    def start(self) -> EmbeddedWorker:
        chores = threading.Lock()

        def chore() -> None:
            try:
                housekeeping(self.factory, self.settings)
            finally:
                chores.release()

        def loop() -> None:
            load_report_types()  # here, once, rather than in the first run
            last_chores = 0.0
            while not self._stopped.is_set():
                try:
                    self.tick()
                except Exception:
                    logger.exception("scheduler tick failed")
                due = (self._chores_wanted
                       or time.monotonic() - last_chores >= self.settings.housekeeping_seconds)
                if due and chores.acquire(blocking=False):
                    self._chores_wanted = False
                    last_chores = time.monotonic()
                    threading.Thread(target=chore, name="housekeeping", daemon=True).start()
                self._wake.wait(self.settings.tick_seconds)
                self._wake.clear()

        self._loop = threading.Thread(target=loop, name="scheduler", daemon=True)
        self._loop.start()
        logger.info("embedded worker started (%s threads)", self.settings.worker_threads)
        return self

    def stop(self, *, wait: bool = True) -> None:
        self._stopped.set()
        self._wake.set()
        if self._loop is not None:
            self._loop.join(timeout=10)
        self._pool.shutdown(wait=wait, cancel_futures=True)
