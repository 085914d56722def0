"""The run's work folder: where its rows wait on disk while the report is computed."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ppc_robot.lib.runner import RunContext


@contextmanager
def work_folder(context: RunContext) -> Iterator[Path]:
    """A folder for the run's rows on disk (beside the outputs, not in memory), removed afterwards."""
    parent = context.settings.work_dir
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"run{context.run_id}-", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
