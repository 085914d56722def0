"""Entry point for Celery: `celery -A ppc_robot.web.celery_worker worker` (and `beat`)."""

from __future__ import annotations

from celery.signals import worker_init, worker_process_init

from ppc_robot.lib.runner import load_report_types
from ppc_robot.web import create_app
from ppc_robot.web.extensions import db
from ppc_robot.web.queue import celery_init_app, import_task_modules

flask_app = create_app()
celery_app = celery_init_app(flask_app)
import_task_modules(flask_app)


@worker_process_init.connect
def _fresh_connections_after_fork(**_kwargs: object) -> None:
    """Pooled connections must never cross fork(): each child opens its own."""
    with flask_app.app_context():
        db.engine.dispose(close=False)


@worker_init.connect
def _report_types_before_fork(**_kwargs: object) -> None:
    """The worker loads the report types (polars, XlsxWriter) once, before forking its
    children, so no run pays the import."""
    load_report_types()
