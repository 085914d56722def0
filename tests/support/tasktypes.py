"""A plug-in task type for worker-process tests (loaded through PPC_ROBOT_TASK_MODULES).

It sleeps as its parameters say, writes its output file atomically at a path fixed by the run
id, and leaves a marker per completed execution so tests can count executions.
"""

from __future__ import annotations

import os
import time

from ppc_robot.lib.runner import RunResult, register_executor


def sleepy(context):
    time.sleep(float(context.parameters.get("seconds", 0.05)))
    context.output_dir.mkdir(parents=True, exist_ok=True)
    target = context.output_dir / f"run-{context.run_id}.txt"
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.write_text(f"run {context.run_id}\n")
    partial.replace(target)
    markers = context.settings.outputs_dir / "executions"
    markers.mkdir(parents=True, exist_ok=True)
    (markers / f"{context.run_id}-{os.getpid()}-{time.monotonic_ns()}").touch()
    return RunResult(rows=1, output_file=str(target))


register_executor("sleepy", sleepy)
