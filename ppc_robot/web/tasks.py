"""Celery tasks: each body is one call into ppc_robot.lib.runner."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from ppc_robot.lib.runner import execute_run, tick
from ppc_robot.lib.runner.worker import housekeeping
from ppc_robot.web.queue import runner_settings, session_factory


@shared_task(name="ppc_robot.run_job", acks_late=True)
def run_job(run_id: int) -> str:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return execute_run(session_factory(app), run_id, runner_settings(app))


@shared_task(name="ppc_robot.tick")
def scheduler_tick() -> int:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    dispatched = tick(session_factory(app), runner_settings(app), run_job.delay)
    return len(dispatched)


@shared_task(name="ppc_robot.housekeeping")
def housekeeping_task() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    housekeeping(session_factory(app), runner_settings(app))
