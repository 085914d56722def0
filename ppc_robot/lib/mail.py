"""Sending e-mail: SMTP when configured, otherwise .eml files in an outbox folder."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.models.base import utcnow

logger = logging.getLogger(__name__)


class MailError(Exception):
    """A message could not be handed to the SMTP server; `temporary` says whether to retry."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


@dataclass(frozen=True)
class MailSettings:
    sender: str
    outbox: Path
    host: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: Path) -> MailSettings:
        """Settings from the app's config keys SMTP_* and MAIL_FROM."""
        return cls(
            sender=config.get("MAIL_FROM") or "PPC Robot <robot@localhost>",
            outbox=Path(config.get("MAIL_OUTBOX") or instance_path / "outbox"),
            host=config.get("SMTP_HOST") or None,
            port=int(config.get("SMTP_PORT") or 25),
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            starttls=str(config.get("SMTP_STARTTLS", "")).lower() in {"1", "true", "yes"},
            use_ssl=str(config.get("SMTP_SSL", "")).lower() in {"1", "true", "yes"},
            timeout=float(config.get("SMTP_TIMEOUT") or 30),
        )


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    message_id: str | None = None
    attachments: tuple[Attachment, ...] = ()


def build_message(settings: MailSettings, mail: Mail) -> EmailMessage:
    """The MIME message; header values with line breaks are refused (no header injection)."""
    for value in (mail.to, mail.subject):
        if "\r" in value or "\n" in value:
            raise ValueError("line break in a mail header")
    if not parseaddr(mail.to)[1] or "@" not in mail.to:
        raise ValueError(f"not an e-mail address: {mail.to!r}")
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = settings.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = mail.message_id or make_msgid(domain="ppc-robot.local")
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        if "\r" in attachment.filename or "\n" in attachment.filename:
            raise ValueError("line break in an attachment's name")
        maintype, _, subtype = attachment.mimetype.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


def send_mail(settings: MailSettings, mail: Mail) -> str:
    """Send `mail` and return its Message-ID. Raises MailError when SMTP refuses or fails."""
    message = build_message(settings, mail)
    if settings.host is None:
        _write_to_outbox(settings.outbox, message)
    else:
        _send_smtp(settings, message)
    logger.info("mail %s sent (%s)", message["Message-ID"], "smtp" if settings.host else "outbox")
    return str(message["Message-ID"])


def _write_to_outbox(outbox: Path, message: EmailMessage) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    partial = outbox / f".{name}.part"
    partial.write_bytes(message.as_bytes())
    return partial.rename(outbox / name)


def _send_smtp(settings: MailSettings, message: EmailMessage) -> None:
    try:
        if settings.use_ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        temporary = 400 <= exc.smtp_code < 500
        raise MailError(N_("the SMTP server answered %(code)s") % {"code": exc.smtp_code}, temporary=temporary) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError("the SMTP server refused the recipient", temporary=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(N_("the SMTP server could not be reached (%(error)s)") % {"error": type(exc).__name__},
                        temporary=True) from exc


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    to: str
    subject: str
    sent_at: datetime
    text: str


def outbox_messages(outbox: Path, *, limit: int = 200) -> list[OutboxMessage]:
    """The newest messages of the outbox folder, newest first."""
    if not outbox.exists():
        return []
    files = sorted(outbox.glob("*.eml"), reverse=True)[:limit]
    messages = []
    for path in files:
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = parsed.get_body(preferencelist=("plain",))
        messages.append(
            OutboxMessage(
                name=path.name,
                to=str(parsed["To"]),
                subject=str(parsed["Subject"]),
                sent_at=parsed["Date"].datetime if parsed["Date"] else utcnow(),
                text=body.get_content() if body else "",
            )
        )
    return messages
