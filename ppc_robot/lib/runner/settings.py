"""The runner's knobs: leases, heartbeats, retries, concurrency. Tests run them short."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunnerSettings:
    outputs_dir: Path
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 15.0
    max_attempts: int = 3
    account_concurrency: int = 8
    worker_threads: int = 4
    tick_seconds: float = 15.0
    # A scheduled run not started this long after its time, or not finished within the
    # timeout, is overdue: the watchdog raises it whatever the cause.
    start_grace_seconds: float = 600.0
    run_timeout_seconds: float = 3600.0
    # The app's whole configuration, for what task types need (credentials keys, platform URLs).
    app_config: Mapping[str, Any] = field(default_factory=dict)
    instance_path: Path | None = None
    housekeeping_seconds: float = 30.0

    @property
    def work_dir(self) -> Path:
        """Where runs keep their rows on disk while they compute (each its own folder,
        removed when it ends; the housekeeping sweeps what a killed worker left)."""
        return self.outputs_dir / ".work"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: Path) -> RunnerSettings:
        def number(key: str, default: float) -> float:
            return float(config.get(key) or default)

        return cls(
            outputs_dir=Path(config.get("PPC_ROBOT_OUTPUTS_DIR") or instance_path / "outputs"),
            lease_seconds=number("PPC_ROBOT_LEASE_SECONDS", 60),
            heartbeat_seconds=number("PPC_ROBOT_HEARTBEAT_SECONDS", 15),
            max_attempts=int(number("PPC_ROBOT_MAX_ATTEMPTS", 3)),
            account_concurrency=int(number("PPC_ROBOT_ACCOUNT_CONCURRENCY", 8)),
            worker_threads=int(number("PPC_ROBOT_WORKER_THREADS", 4)),
            tick_seconds=number("PPC_ROBOT_TICK_SECONDS", 15),
            start_grace_seconds=number("PPC_ROBOT_START_GRACE_SECONDS", 600),
            run_timeout_seconds=number("PPC_ROBOT_RUN_TIMEOUT_SECONDS", 3600),
            app_config=dict(config),
            instance_path=instance_path,
            housekeeping_seconds=number("PPC_ROBOT_HOUSEKEEPING_SECONDS", 30),
        )
