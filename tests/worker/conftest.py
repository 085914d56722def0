"""Worker processes started exactly as production starts them (Procfile), on the test database."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def procfile() -> dict[str, list[str]]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = shlex.split(command)
    return entries


def require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis does not answer at {REDIS_URL}; the Celery suite needs it "
                    "(`.ci/run` starts it).")


class Processes:
    """Starts named Procfile entries (or other commands) and stops them all at the end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, command: list[str] | None = None) -> subprocess.Popen[bytes]:
        argv = list(command or procfile()[name])
        argv[0] = str(Path(sys.executable).parent / argv[0])
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(argv, env=self.env, cwd=ROOT, start_new_session=True,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.running[name] = process
        return process

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        """The end of every process's output, for a failing test's message."""
        return "\n".join(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
                         for path in sorted(self.logs.glob("*.log")))

    def stop_all(self) -> None:
        for name in list(self.running):
            process = self.running.pop(name)
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def worker_env(database_url: str, tmp_path: Path, app) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PPC_ROBOT_CREDENTIALS_KEY": app.config["PPC_ROBOT_CREDENTIALS_KEY"],
        "PPC_ROBOT_INSTANCE_PATH": str(tmp_path / "instance"),
        "PPC_ROBOT_OUTPUTS_DIR": str(tmp_path / "outputs"),
        "PPC_ROBOT_TASK_MODULES": "tests.support.tasktypes",
        "PPC_ROBOT_LEASE_SECONDS": "3",
        "PPC_ROBOT_HEARTBEAT_SECONDS": "0.5",
        "PPC_ROBOT_TICK_SECONDS": "0.5",
        "PPC_ROBOT_MAX_ATTEMPTS": "10",
        "CELERY_BROKER_URL": REDIS_URL,
        # A queue of its own per test: nothing a previous test left in Redis reaches this one.
        "CELERY_TASK_DEFAULT_QUEUE": f"ppc-robot-test-{uuid.uuid4().hex[:8]}",
        "PYTHONPATH": str(ROOT),
    })
    return env


@pytest.fixture
def processes(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Processes]:
    running = Processes(worker_env, tmp_path / "logs")
    yield running
    running.stop_all()
