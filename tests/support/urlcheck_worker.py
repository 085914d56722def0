"""A worker process for the killed-midway test: executes one run and is killed by the test.

python -m tests.support.urlcheck_worker DATABASE_URL RUN_ID OUTPUTS_DIR CONFIG_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ppc_robot.lib.db import make_engine, make_session_factory
from ppc_robot.lib.runner import RunnerSettings, execute_run


def main() -> None:
    database_url, run_id, outputs, config = sys.argv[1:5]
    settings = runner_settings(Path(outputs), json.loads(config))
    engine = make_engine(database_url)
    print(execute_run(make_session_factory(engine), int(run_id), settings, worker="doomed"))


def runner_settings(outputs: Path, config: dict[str, str]) -> RunnerSettings:
    return RunnerSettings(outputs_dir=outputs, heartbeat_seconds=0.2, lease_seconds=1.0,
                          app_config=config)


if __name__ == "__main__":
    main()
