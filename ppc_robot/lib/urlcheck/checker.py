"""Checking many URLs at once: bounded concurrency, per-host politeness, one later retry of
inconclusive answers.

`concurrency` workers take URLs one by one from the iterable (never all in memory as tasks),
each holding a host's slot around each request: at most `per_host` requests at once per host,
their starts at least `min_interval` apart. An inconclusive URL (403/429/503) is checked once
more after the others, not before its Retry-After (capped at `max_retry_wait`).
"""

from __future__ import annotations

import asyncio
import heapq
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

import httpx

from ppc_robot.lib.urlcheck.fetch import UrlFetcher
from ppc_robot.lib.urlcheck.guard import GuardedTransport, tls_context
from ppc_robot.lib.urlcheck.results import CheckResult, UrlStatus
from ppc_robot.lib.urlcheck.settings import CheckSettings


class _HostGates:
    """Per-host semaphores and spacing of request starts."""

    def __init__(self, per_host: int | None, min_interval: float) -> None:
        self.per_host, self.min_interval = per_host, min_interval
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._spacing: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        if self.per_host is None and not self.min_interval:
            yield
            return
        semaphore = None
        if self.per_host is not None:
            semaphore = self._slots.setdefault(host, asyncio.Semaphore(self.per_host))
            await semaphore.acquire()
        try:
            if self.min_interval:
                async with self._spacing.setdefault(host, asyncio.Lock()):
                    wait = self._last.get(host, 0.0) + self.min_interval - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    self._last[host] = time.monotonic()
            yield
        finally:
            if semaphore is not None:
                semaphore.release()


WORKER_CONNECTIONS = 4


def make_transport(settings: CheckSettings, ssl_context: ssl.SSLContext) -> GuardedTransport:
    """One worker's connections: guarded, a few (a redirect may change host), kept alive.

    Each worker has its own small pool: httpcore's pool looks at all its connections on every
    request, so one pool of hundreds of connections costs more CPU than the requests do.
    """
    limits = httpx.Limits(max_connections=WORKER_CONNECTIONS,
                          max_keepalive_connections=WORKER_CONNECTIONS, keepalive_expiry=5.0)
    return GuardedTransport(allowed_hosts=settings.allowed_hosts, limits=limits,
                            ssl_context=ssl_context, resolve_timeout=settings.connect_timeout)


async def check_all(urls: Iterable[str], settings: CheckSettings,
                    on_result: Callable[[CheckResult], None]) -> None:
    """Check every URL (normalised, distinct), calling `on_result` once per URL as it is known."""
    gates = _HostGates(settings.per_host, settings.min_interval)
    pending = iter(urls)
    retries: list[tuple[float, int, CheckResult]] = []

    async def first_pass(fetcher: UrlFetcher) -> None:
        for url in pending:
            result = await fetcher.check(url)
            if result.status is UrlStatus.INCONCLUSIVE and settings.retry_inconclusive:
                wait = result.retry_after if result.retry_after is not None else settings.default_retry_wait
                due = time.monotonic() + min(wait, settings.max_retry_wait)
                heapq.heappush(retries, (due, id(result), result))
            else:
                on_result(result)

    async def second_pass(fetcher: UrlFetcher) -> None:
        while retries:
            due, _, first = heapq.heappop(retries)
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            again = await fetcher.check(first.url)
            again.attempts = 2
            if again.status is UrlStatus.INCONCLUSIVE:
                again.error = again.error.rstrip(".") + "; the same on a second try."
            on_result(again)

    workers = max(1, settings.concurrency)
    context = tls_context(settings.verify_tls)
    first_done = [0]
    # Retries start once every worker has finished its first checks (none is waiting on a
    # site's Retry-After while URLs are left).
    all_first_done = asyncio.Event()

    async def worker() -> None:
        async with make_transport(settings, context) as transport:
            fetcher = UrlFetcher(transport, settings, gates.slot)
            try:
                await first_pass(fetcher)
            finally:
                first_done[0] += 1
                if first_done[0] == workers:
                    all_first_done.set()
            await all_first_done.wait()
            await second_pass(fetcher)

    await asyncio.gather(*(worker() for _ in range(workers)))


def check_urls(urls: Iterable[str], settings: CheckSettings,
               on_result: Callable[[CheckResult], None]) -> None:
    """`check_all` from synchronous code (the runner's thread): its own event loop, in a thread of
    its own when this thread already runs one (asyncio.run refuses to nest)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(check_all(urls, settings, on_result))
        return
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(check_all(urls, settings, on_result))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="url-checker")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
