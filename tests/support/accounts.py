"""Helpers for the accounts tests: a mailbox on the loopback SMTP server, links from mails."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import urlsplit

LINK = re.compile(r"https?://\S+")


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "the mail has no text part"
    return body.get_content()


def link_in(message: EmailMessage) -> str:
    """The one link of a mail's text part."""
    links = LINK.findall(text_of(message))
    assert len(links) == 1, links
    return links[0]


def path_of(url: str) -> str:
    return urlsplit(url).path


def mails_to(server, address: str) -> list[EmailMessage]:
    return [m for m in server.messages if m["To"] == address]
