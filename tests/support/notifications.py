"""Fixtures of the notifications tests: the Slack stand-in, an SMTP server that drops connections,
and a delivery configuration pointing at both."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.db import make_session_factory
from ppc_robot.lib.mail import MailSettings
from ppc_robot.lib.notifications.delivery import DeliveryConfig
from ppc_robot.lib.notifications.slack import SlackSettings
from tests.stubs.slack import SlackStub
from tests.support.smtp import SmtpServer, _Keeper

_hooks = itertools.count(1)


class _DroppingKeeper(_Keeper):
    """Keeps mail like the normal server, but can drop the connection instead of answering DATA."""

    def __init__(self) -> None:
        super().__init__()
        self.drop_next: list[bool] = []  # True: the server had stored the mail before dropping
        self.dropped = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            drop = self.drop_next.pop(0) if self.drop_next else None
        if drop is None:
            return await super().handle_DATA(server, session, envelope)
        if drop:
            # RFC 1047's case: the server took the mail but the client never heard the 250.
            with self.lock:
                self.messages.append(_parse(envelope.content))
        with self.lock:
            self.dropped += 1
        server.transport.abort()
        return "421 connection dropped"


def _parse(content: bytes) -> Any:
    from email import policy
    from email.parser import BytesParser

    return BytesParser(policy=policy.default).parsebytes(content)


class DroppingSmtpServer(SmtpServer):
    """The loopback SMTP server of tests/support/smtp.py that can drop a connection mid-send."""

    def __init__(self) -> None:
        super().__init__()
        from aiosmtpd.controller import Controller

        self._keeper = _DroppingKeeper()
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=self.port)

    def drop_next(self, *, after_storing: bool = False) -> None:
        """Close the connection while the next mail's DATA waits for its answer."""
        with self._keeper.lock:
            self._keeper.drop_next.append(after_storing)

    @property
    def dropped(self) -> int:
        return self._keeper.dropped


@pytest.fixture
def slack_stub() -> Iterator[SlackStub]:
    stub = SlackStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def dropping_smtp() -> Iterator[DroppingSmtpServer]:
    server = DroppingSmtpServer().start()
    yield server
    server.stop()


def new_hook_path() -> str:
    n = next(_hooks)
    return f"/services/T{n:08d}/B{n:08d}/secrettoken{n:08d}"


def delivery_config(smtp: SmtpServer, slack: SlackStub, tmp_path: Path, **overrides: Any) -> DeliveryConfig:
    options: dict[str, Any] = {
        "mail": MailSettings.from_config({**smtp.config(), "SMTP_TIMEOUT": 5}, tmp_path),
        "vault": Vault([generate_key()]),
        "base_url": "https://robot.example.test",
        "slack": SlackSettings(base_url=slack.base_url, timeout=5),
    }
    options.update(overrides)
    return DeliveryConfig(**options)


@pytest.fixture
def session_factory(engine: Engine) -> Any:
    return make_session_factory(engine)
