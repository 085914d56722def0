"""Posting to a Slack incoming webhook: the message markup, its escaping and the answer codes.

Slack reads `&`, `<` and `>` as markup in every text of a message (`<!channel>` pings a channel,
`<http://x|y>` draws a link), in the top-level text as much as in blocks and attachments. So a
payload is built from plain strings, which are user text, and `Mrkdwn` strings, which are markup
we wrote; `post_message` escapes every plain string of the payload once, on its way out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx

from ppc_robot.lib.i18n import N_

logger = logging.getLogger(__name__)

SLACK_TEXT_MAX = 3000
RETRY_AFTER_MAX = 15 * 60


class SlackError(Exception):
    """Slack did not take the message; `temporary` says whether to retry, maybe after a while."""

    def __init__(self, message: str, *, temporary: bool, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.retry_after = retry_after


@dataclass(frozen=True)
class SlackSettings:
    """Server settings: where webhook posts really go (tests point it at a loopback stub)."""

    base_url: str | None = None
    timeout: float = 10.0


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, escaped as its docs ask; markup we wrote stays as is."""
    if isinstance(text, Mrkdwn):
        return str(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Mrkdwn(str):
    """Slack markup we wrote. `format` escapes the values it puts in, unless they are markup too."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> Mrkdwn:
        return Mrkdwn(str.format(self, *(_escaped(a) for a in args),
                                 **{k: _escaped(v) for k, v in kwargs.items()}))

    def join(self, parts: Any) -> Mrkdwn:  # type: ignore[override]
        return Mrkdwn(str.join(self, (_escaped(p) for p in parts)))


def _escaped(value: Any) -> Any:
    return escape_mrkdwn(value) if isinstance(value, str) else value


def clip(text: str, limit: int) -> str:
    """User text cut so that it still fits in `limit` characters once escaped."""
    size = 0
    for index, char in enumerate(text):
        size += len(escape_mrkdwn(char))
        if size > limit - 1:
            return text[:index] + "…"
    return text


def link(url: str, label: str) -> Mrkdwn:
    return Mrkdwn("<{}|{}>").format(url, label)


def escape_payload(payload: Any) -> Any:
    """The payload as Slack must receive it: every plain string in it escaped, markup kept."""
    if isinstance(payload, str):
        return escape_mrkdwn(payload)
    if isinstance(payload, dict):
        return {key: escape_payload(value) for key, value in payload.items()}
    if isinstance(payload, (list, tuple)):
        return [escape_payload(value) for value in payload]
    return payload


def _target(webhook_url: str, settings: SlackSettings) -> str:
    if not settings.base_url:
        return webhook_url
    return settings.base_url.rstrip("/") + urlsplit(webhook_url).path


def post_message(webhook_url: str, payload: dict, settings: SlackSettings) -> None:
    """POST `payload` (user text as plain strings, our markup as `Mrkdwn`) to the webhook.

    Raises SlackError; the URL never appears in it or the log.
    """
    body_json = escape_payload(payload)
    try:
        response = _client(settings.timeout).post(_target(webhook_url, settings), json=body_json)
    except httpx.HTTPError as exc:
        raise SlackError(N_("Slack could not be reached (%(error)s).") % {"error": type(exc).__name__},
                         temporary=True) from exc
    body = response.text.strip()[:100]
    answer = {"status": response.status_code, "body": body}
    if response.status_code == 200:
        return
    if response.status_code == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        raise SlackError(N_("Slack asked us to slow down (429)."), temporary=True,
                         retry_after=retry_after)
    if response.status_code >= 500:
        raise SlackError(N_("Slack failed (%(status)s %(body)s).") % answer, temporary=True)
    if response.status_code in (403, 404, 410):
        raise SlackError(
            N_("Slack refused the webhook (%(status)s %(body)s): it was removed, revoked or its "
               "channel archived. Paste a new webhook URL in the settings.") % answer,
            temporary=False,
        )
    raise SlackError(N_("Slack refused the message (%(status)s %(body)s).") % answer,
                     temporary=False)


@lru_cache(maxsize=4)
def _client(timeout: float) -> httpx.Client:
    """One pooled client per process (thread-safe); building one loads the CA bundle, which is slow."""
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
    )


def _retry_after(value: str | None) -> int | None:
    try:
        seconds = int(value) if value is not None else None
    except ValueError:
        return None
    return None if seconds is None else max(1, min(seconds, RETRY_AFTER_MAX))
