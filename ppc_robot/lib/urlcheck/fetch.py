"""Checking one URL: HEAD or GET, redirects followed by hand, the answer judged, errors worded."""

from __future__ import annotations

import asyncio
import errno
import html
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urljoin, urlsplit

import httpx

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.urlcheck.guard import AddressRefused, HostNotFound
from ppc_robot.lib.urlcheck.results import CheckResult, UrlStatus
from ppc_robot.lib.urlcheck.settings import CheckSettings
from ppc_robot.lib.urlcheck.urls import MalformedUrl, normalise_url

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# What bot protection and overloaded servers answer a robot: neither broken nor fine.
INCONCLUSIVE_CODES = frozenset({403, 429, 503})

HostSlot = Callable[[str], AbstractAsyncContextManager[None]]

# Why a URL failed, stored in English (lib/stored_text.py rewords it for each reader).
NO_ANSWER = N_("No complete answer within %(seconds)s s (timeout).")
TLS_ERROR = N_("TLS error: %(reason)s.")
REFUSED = N_("Connection refused: nothing answers on that address.")


class _Clock:
    """A URL's time budget: all its requests (redirects, HEAD then GET) share it."""

    def __init__(self, total: float) -> None:
        self.total, self.spent = total, 0.0

    @property
    def left(self) -> float:
        return self.total - self.spent


class _Answer:
    def __init__(self, status: int, headers: httpx.Headers, text: str | None) -> None:
        self.status, self.headers, self.text = status, headers, text


def _phrase(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date; None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


async def _read_text(chunks: AsyncIterator[bytes], limit: int, encoding: str | None) -> str:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit]).decode(encoding or "utf-8", errors="replace")


class UrlFetcher:
    """Checks URLs through one shared transport; `host_slot(host)` is held around every request.

    Requests go to the transport, not an httpx client: the client parses every Location header
    even when it does not follow redirects, and refuses `javascript:` ones before we see them.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport, settings: CheckSettings,
                 host_slot: HostSlot) -> None:
        self.transport, self.settings, self.host_slot = transport, settings, host_slot
        self._headers = {"User-Agent": settings.user_agent, "Accept": "text/html,*/*;q=0.8",
                         "Accept-Encoding": "gzip, deflate", **settings.extra_headers}
        self._timeout = httpx.Timeout(settings.total_timeout, connect=settings.connect_timeout,
                                      pool=None).as_dict()
        self._phrases = [(p, html.unescape(p).casefold()) for p in settings.soft_404_phrases if p.strip()]
        self._monitor = html.unescape(settings.monitor_text.strip()).casefold()

    async def _request(self, method: str, url: str, clock: _Clock) -> _Answer:
        host = (urlsplit(url).hostname or "").lower()
        request = httpx.Request(method, url, headers=self._headers,
                                extensions={"timeout": self._timeout})
        async with self.host_slot(host):
            # The URL's time budget runs only while it is being fetched: waiting for the host's
            # slot (politeness) is not the site's slowness.
            started = time.monotonic()
            try:
                async with asyncio.timeout(max(0.0, clock.left)):
                    response = await self.transport.handle_async_request(request)
                    try:
                        text = None
                        if (method == "GET" and self.settings.needs_body
                                and 200 <= response.status_code < 300):
                            text = await _read_text(response.aiter_bytes(), self.settings.max_body,
                                                    response.charset_encoding)
                        return _Answer(response.status_code, response.headers, text)
                    finally:
                        await response.aclose()
            finally:
                clock.spent += time.monotonic() - started

    async def _hop(self, url: str, clock: _Clock) -> _Answer:
        """HEAD when the body does not matter; GET when it does or HEAD is refused or errs."""
        if not self.settings.needs_body:
            answer = await self._request("HEAD", url, clock)
            if answer.status < 400:
                return answer
        return await self._request("GET", url, clock)

    async def check(self, url: str) -> CheckResult:
        """The URL's result; never raises for anything the network or the site does."""
        clock = _Clock(self.settings.total_timeout)
        result = CheckResult(url, UrlStatus.BROKEN)
        try:
            await self._follow(url, result, clock)
        except TimeoutError:
            result.status = UrlStatus.BROKEN
            result.error = NO_ANSWER % {"seconds": f"{self.settings.total_timeout:g}"}
        except httpx.ConnectTimeout:
            result.error = N_("No connection within %(seconds)s s (connect timeout).") % {
                "seconds": f"{self.settings.connect_timeout:g}"}
        except httpx.TimeoutException:
            result.error = NO_ANSWER % {"seconds": f"{self.settings.total_timeout:g}"}
        except HostNotFound:
            result.error = N_("The host name does not exist (DNS lookup failed).")
        except AddressRefused as exc:
            result.error = N_("Not checked: %(reason)s; the checker does not fetch internal "
                              "addresses.") % {"reason": exc}
        except httpx.ConnectError as exc:
            result.error = _connect_error(exc)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            result.error = N_("The server dropped the connection without a complete answer.")
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            result.status, result.error = UrlStatus.MALFORMED, f"The URL cannot be fetched ({exc})."
        except httpx.HTTPError as exc:
            result.error = N_("The request failed (%(error)s).") % {"error": type(exc).__name__}
        result.response_ms = int(clock.spent * 1000)
        return result

    async def _follow(self, url: str, result: CheckResult, clock: _Clock) -> None:
        seen = {url}
        current = url
        for hop in range(self.settings.max_redirects + 1):
            answer = await self._hop(current, clock)
            result.http_status, result.final_url = answer.status, current
            location = answer.headers.get("location")
            if answer.status not in REDIRECT_CODES or not location:
                self._judge(answer, result)
                return
            target = urljoin(current, location.strip())
            result.chain.append(f"{answer.status} → {target}")
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ("http", "https"):
                result.final_url = target
                result.error = N_("Redirects to a non-web address (%(scheme)s:).") % {
                    "scheme": scheme or N_("no scheme")}
                return
            try:
                target = normalise_url(target)
            except MalformedUrl as exc:
                result.final_url, result.error = target, f"Redirects to a malformed URL: {exc}"
                return
            if target in seen:
                result.final_url, result.error = target, N_(
                    "Redirect loop: the chain comes back to a URL it visited.")
                return
            if hop == self.settings.max_redirects:
                result.final_url = target
                result.error = N_("More than %(count)d redirects.") % {"count": self.settings.max_redirects}
                return
            seen.add(target)
            current = target

    def _judge(self, answer: _Answer, result: CheckResult) -> None:
        status = answer.status
        redirected = bool(result.chain)
        if 200 <= status < 300:
            text = html.unescape(answer.text or "").casefold()
            for phrase, folded in self._phrases:
                if folded in text:
                    result.error = N_("Soft 404: the page says “%(phrase)s”.") % {"phrase": phrase}
                    return
            if self._monitor and self._monitor not in text:
                result.error = N_("The monitored text “%(text)s” is not on the page.") % {
                    "text": self.settings.monitor_text.strip()}
                return
            result.status = UrlStatus.REDIRECT if redirected else UrlStatus.OK
        elif status in INCONCLUSIVE_CODES:
            result.status = UrlStatus.INCONCLUSIVE
            result.error = N_("%(answer)s: probably bot protection or overload, not counted as "
                              "broken.") % {"answer": _phrase(status)}
            result.retry_after = retry_after_seconds(answer.headers.get("retry-after"))
        elif status in REDIRECT_CODES:
            result.error = N_("%(answer)s without a Location header.") % {"answer": _phrase(status)}
        elif status < 200 or 300 <= status < 400:
            result.error = N_("Unexpected answer %(answer)s.") % {"answer": _phrase(status)}
        else:
            result.error = f"{_phrase(status)}."


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, its causes, contexts and wrapped arguments, and the members of any
    exception group among them: where the refusal behind "All connection attempts failed" is."""
    found: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        todo.extend(c for c in (current.__cause__, current.__context__) if c is not None)
        # httpcore wraps the original as its argument, not always as the cause.
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
    return found


def _connect_error(exc: httpx.ConnectError) -> str:
    causes = _causes(exc)
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return TLS_ERROR % {"reason": getattr(cause, "reason", None) or cause}
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError) or (
                isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED):
            return REFUSED
    text = str(exc)
    if "SSL" in text or "certificate" in text.lower() or "TLS" in text:
        return TLS_ERROR % {"reason": text}
    if "refused" in text.lower():
        return REFUSED
    return N_("Could not connect (%(reason)s).") % {"reason": text or type(exc).__name__}
