"""HTTP for adapters: httpx without redirects, typed transport errors, bounded retries."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from functools import cache
from typing import TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from ppc_robot.lib.platforms.base import PlatformError, RateLimitedError, TemporaryError
from ppc_robot.lib.platforms.settings import PlatformSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")


@cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds; one verifying context per process
    # serves every client (SSLContext is safe to share between threads).
    return httpx.create_ssl_context()


def make_http(settings: PlatformSettings, base_url: str = "") -> httpx.Client:
    """A client that never follows redirects (a redirect would carry tokens elsewhere)."""
    return httpx.Client(base_url=base_url, timeout=settings.timeout_seconds,
                        follow_redirects=False, verify=_tls())


def send(http: httpx.Client, request: httpx.Request, platform: str) -> httpx.Response:
    """Send, turning timeouts and broken connections into TemporaryError."""
    try:
        return http.send(request)
    except httpx.TimeoutException as exc:
        raise TemporaryError(f"{platform} did not answer in time.") from exc
    except httpx.TransportError as exc:
        raise TemporaryError(f"{platform} could not be reached.") from exc


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds, when it is a number."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def with_retries(settings: PlatformSettings, call: Callable[[], T]) -> T:
    """Run `call`, retrying rate limits and temporary failures a few times with backoff.

    A wait longer than the configured maximum is not slept through: the error goes to the
    caller (the runner reschedules instead of holding a worker).
    """

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return exc.retry_after
        return min(2.0 ** (state.attempt_number - 1), settings.retry_max_wait_seconds)

    def should_retry(exc: BaseException) -> bool:
        if not (isinstance(exc, PlatformError) and exc.retryable):
            return False
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is None or retry_after <= settings.retry_max_wait_seconds

    retrying = Retrying(
        retry=retry_if_exception(should_retry),
        stop=stop_after_attempt(max(settings.retry_attempts, 1)),
        wait=lambda state: min(wait(state), settings.retry_max_wait_seconds),
        reraise=True,
        before_sleep=lambda state: logger.info(
            "platform call failed (%s), attempt %s, retrying",
            type(state.outcome.exception()).__name__ if state.outcome else "?",
            state.attempt_number),
    )
    return retrying(call)
