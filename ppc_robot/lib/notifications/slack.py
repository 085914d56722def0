"""Posting to a Slack incoming webhook: the message blocks and the answer codes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import httpx

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
    """Slack's three control characters, escaped as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    return f"<{url}|{escape_mrkdwn(label)}>"


def _target(webhook_url: str, settings: SlackSettings) -> str:
    if not settings.base_url:
        return webhook_url
    return settings.base_url.rstrip("/") + urlsplit(webhook_url).path


def post_message(webhook_url: str, payload: dict, settings: SlackSettings) -> None:
    """POST `payload` to the webhook. Raises SlackError; the URL never appears in it or the log."""
    try:
        response = _client(settings.timeout).post(_target(webhook_url, settings), json=payload)
    except httpx.HTTPError as exc:
        raise SlackError(f"Slack could not be reached ({type(exc).__name__}).", temporary=True) from exc
    body = response.text.strip()[:100]
    if response.status_code == 200:
        return
    if response.status_code == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        raise SlackError("Slack asked us to slow down (429).", temporary=True, retry_after=retry_after)
    if response.status_code >= 500:
        raise SlackError(f"Slack failed ({response.status_code} {body}).", temporary=True)
    if response.status_code in (403, 404, 410):
        raise SlackError(
            f"Slack refused the webhook ({response.status_code} {body}): it was removed, revoked "
            "or its channel archived. Paste a new webhook URL in the settings.",
            temporary=False,
        )
    raise SlackError(f"Slack refused the message ({response.status_code} {body}).", temporary=False)


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
