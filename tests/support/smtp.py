"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import socket
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Keeper:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.fail_next: list[str] = []  # SMTP replies to give instead of accepting, one per mail

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0)
            self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    """Start with `start()`; `messages` are the parsed mails received so far."""

    def __init__(self) -> None:
        self.port = free_port()
        self._keeper = _Keeper()
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._keeper.lock:
            return list(self._keeper.messages)

    def clear(self) -> None:
        with self._keeper.lock:
            self._keeper.messages.clear()

    def fail_next(self, reply: str = "451 Try again later") -> None:
        """Answer the next mail with `reply` instead of accepting it."""
        self._keeper.fail_next.append(reply)

    def config(self) -> dict[str, Any]:
        """App settings that send mail to this server."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "MAIL_FROM": "PPC Robot <robot@test.local>"}
