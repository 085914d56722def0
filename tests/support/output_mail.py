"""Output delivery's test helpers: a finished run with a file, an SMTP server that holds a mail
until its sender dies, and a worker process to kill (`python -m tests.support.output_mail`)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.mail import MailSettings
from ppc_robot.lib.models import JobRun, RunStatus, utcnow
from ppc_robot.lib.notifications.delivery import DeliveryConfig
from ppc_robot.lib.output_delivery import OutputMailConfig
from tests.support.smtp import SmtpServer, _Keeper

SECRET = "output-link-test-secret"


def finished_run(session: Any, user: Any, job: Any, outputs_dir: Path, *, content: bytes,
                 name: str = "report.xlsx", status: RunStatus = RunStatus.SUCCEEDED) -> JobRun:
    """A finished run of `job` whose output file holds `content`, stored as the runner stores it."""
    run = JobRun(user_id=user.id, job_id=job.id, status=status,
                 scheduled_at=utcnow() - timedelta(minutes=len(content) % 1000 + 1),
                 started_at=utcnow(), finished_at=utcnow())
    session.add(run)
    session.flush()
    folder = outputs_dir / str(user.id) / str(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run.id}-{name}"
    path.write_bytes(content)
    run.output_file = str(path)
    session.commit()
    return run


def output_config(smtp_port: int, outputs_dir: Path, **overrides: Any) -> OutputMailConfig:
    mail = MailSettings.from_config({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port,
                                     "SMTP_TIMEOUT": 10, "MAIL_FROM": "PPC Robot <robot@test.local>"},
                                    outputs_dir)
    delivery = DeliveryConfig(mail=mail, vault=Vault([generate_key()]),
                              base_url="https://robot.example.test")
    return OutputMailConfig(**{"delivery": delivery, "outputs_dir": outputs_dir,
                               "link_secret": SECRET, **overrides})


class _HoldingKeeper(_Keeper):
    """Holds the next mail's DATA unanswered; stores it only if its sender is still there."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.hold_next = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if not self.hold_next:
            return await super().handle_DATA(server, session, envelope)
        self.hold_next = False
        self.holding.set()
        for _ in range(600):  # a sender that never dies is given up on after a minute
            if server.transport is None or server.transport.is_closing():
                return "451 sender gone"  # nobody hears this: the mail was never accepted
            await asyncio.sleep(0.1)
        return "451 held too long"


class HoldingSmtpServer(SmtpServer):
    def __init__(self) -> None:
        super().__init__()
        self._keeper = _HoldingKeeper()
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=self.port)

    def hold_next(self) -> threading.Event:
        """Hold the next mail; the event is set once it is being held."""
        self._keeper.hold_next = True
        return self._keeper.holding


def _main() -> None:
    from ppc_robot.lib.db import make_engine, make_session_factory
    from ppc_robot.lib.output_delivery import deliver_outputs

    config = output_config(int(os.environ["TEST_SMTP_PORT"]), Path(os.environ["TEST_OUTPUTS_DIR"]))
    factory = make_session_factory(make_engine(os.environ["DATABASE_URL"]))
    report = deliver_outputs(factory, config)
    sys.stdout.write(f"{report}\n")


if __name__ == "__main__":
    _main()
