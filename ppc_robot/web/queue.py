"""The queue behind "run now" and the scheduler: the embedded worker or Celery.

Celery is wired as Flask's documentation shows: tasks run inside the app context; the task
bodies are one call into ppc_robot.lib.runner, which opens sessions of its own.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app

from ppc_robot.lib.db import make_session_factory
from ppc_robot.lib.runner import EmbeddedWorker, RunnerSettings
from ppc_robot.web.extensions import db

logger = logging.getLogger(__name__)


def runner_settings(app: Flask) -> RunnerSettings:
    return RunnerSettings.from_config(app.config, Path(app.instance_path))


def session_factory(app: Flask) -> Any:
    with app.app_context():
        return make_session_factory(db.engine)


def import_task_modules(app: Flask) -> None:
    """Import extra task-type modules named in PPC_ROBOT_TASK_MODULES (plug-in report types)."""
    for name in str(app.config.get("PPC_ROBOT_TASK_MODULES") or "").split(","):
        if name.strip():
            importlib.import_module(name.strip())


def celery_init_app(app: Flask) -> Celery:
    if "celery" in app.extensions:
        return app.extensions["celery"]

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    tick_seconds = float(app.config.get("PPC_ROBOT_TICK_SECONDS") or 15)
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        task_default_queue=app.config.get("CELERY_TASK_DEFAULT_QUEUE") or "celery",
        task_acks_late=True,  # a run is idempotent by its id; the DB lease is the truth
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        beat_schedule={
            "tick": {"task": "ppc_robot.tick", "schedule": tick_seconds},
            "housekeeping": {"task": "ppc_robot.housekeeping",
                             "schedule": float(app.config.get("PPC_ROBOT_HOUSEKEEPING_SECONDS") or 30)},
        },
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    from ppc_robot.web import tasks  # noqa: F401 - registers the tasks

    return celery_app


def enqueue_run(run_id: int) -> None:
    """Hand a run to the configured queue after its row is committed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["PPC_ROBOT_QUEUE"] == "celery":
        app.extensions["celery"].send_task("ppc_robot.run_job", args=[run_id])
        return
    worker: EmbeddedWorker | None = app.extensions.get("ppc_robot_worker")
    if worker is not None:
        worker.enqueue(run_id)
    # Otherwise a `flask worker` process picks the queued run up at its next tick.


def wake_housekeeping(app: Flask) -> None:
    """Have the housekeeping run now (statistics refresh, syncs) instead of at its interval."""
    if app.config["PPC_ROBOT_QUEUE"] == "celery":
        app.extensions["celery"].send_task("ppc_robot.housekeeping")
        return
    worker: EmbeddedWorker | None = app.extensions.get("ppc_robot_worker")
    if worker is not None:
        worker.wake_housekeeping()
    # Otherwise a `flask worker` process runs it at its next interval.


def start_embedded_worker(app: Flask) -> EmbeddedWorker:
    import_task_modules(app)
    worker = EmbeddedWorker(session_factory(app), runner_settings(app)).start()
    app.extensions["ppc_robot_worker"] = worker
    return worker
