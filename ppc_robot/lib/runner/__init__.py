"""Running jobs: scheduling, claiming with leases, executing, recording. Lib only."""

from ppc_robot.lib.runner.execute import (
    MissingAccount,
    RunContext,
    RunResult,
    execute_run,
    load_report_types,
    register_executor,
)
from ppc_robot.lib.runner.lifecycle import ErrorClass, RunFailed, claim_run
from ppc_robot.lib.runner.scheduler import schedule_due_runs
from ppc_robot.lib.runner.settings import RunnerSettings
from ppc_robot.lib.runner.worker import EmbeddedWorker, tick

__all__ = [
    "EmbeddedWorker",
    "ErrorClass",
    "MissingAccount",
    "RunContext",
    "RunFailed",
    "RunResult",
    "RunnerSettings",
    "claim_run",
    "execute_run",
    "load_report_types",
    "register_executor",
    "schedule_due_runs",
    "tick",
]
