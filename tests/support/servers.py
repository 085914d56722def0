"""The web app served for real in a subprocess: `flask run` as in development, or the Procfile's
gunicorn command as in production, on a free loopback port and the test database; its output
(access log included) is kept in a file the test can read."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from flask import Flask

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile_command(name: str) -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return shlex.split(line.split(":", 1)[1])
    raise LookupError(f"the Procfile has no {name} entry")


def gunicorn_command(port: int) -> list[str]:
    """The Procfile's web command, bound to `port` instead of the production address."""
    argv = procfile_command("web")
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    return argv


def flask_run_command(port: int) -> list[str]:
    return ["flask", "run", "--host", "127.0.0.1", "--port", str(port), "--with-threads"]


class ServedApp:
    """A server process on the test database and the test app's secrets."""

    def __init__(self, app: Flask, command: list[str], port: int, log: Path, **env: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        argv = list(command)
        argv[0] = str(Path(sys.executable).parent / argv[0])
        environment = {
            **os.environ,
            "FLASK_APP": "ppc_robot.web:create_app",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "PPC_ROBOT_CREDENTIALS_KEY": app.config["PPC_ROBOT_CREDENTIALS_KEY"],
            "PPC_ROBOT_INSTANCE_PATH": app.instance_path,
            "PPC_ROBOT_BASE_URL": self.url,
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        environment.pop("WERKZEUG_RUN_MAIN", None)
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(argv, cwd=ROOT, env=environment, start_new_session=True,
                                        stdout=self._log_file, stderr=subprocess.STDOUT)
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.output()}")
            try:
                httpx.get(self.url + "/login", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {timeout} s: {self.output()}")

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log_file.close()

    def __enter__(self) -> ServedApp:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


def session_cookie(app: Flask, user_session_token: str) -> str:
    """The signed session cookie of a logged-in user, as Flask-Login would write it."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return serializer.dumps({"_user_id": user_session_token, "_fresh": True})
