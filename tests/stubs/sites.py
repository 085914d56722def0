"""A web site on loopback for the URL checker: an asyncio HTTP/1.1 server in a thread.

Written on raw asyncio streams (not http.server) so that it can do what real sites do to a link
checker: answer slowly, never answer, drop the connection, stream a huge body, refuse HEAD,
and hold thousands of keep-alive connections for the benchmark. It counts requests per
(method, path) and the most it was answering at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

HUGE_CHUNK = b"x" * 65536


@dataclass
class Page:
    """What a path answers: status, headers, body; `delay` before answering; `hang` never
    answers; `drop` closes the connection without a word; `huge` streams that many bytes;
    `head_status` answers HEAD differently (405: HEAD refused)."""

    status: int = 200
    body: bytes = b"<html><body>Hello</body></html>"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False
    drop: bool = False
    huge: int = 0
    head_status: int | None = None


Route = Callable[[str, str], Page | None]


class SiteServer:
    """`pages` maps a path (without query) to its Page; `route(method, path)` may answer
    paths the map lacks (the benchmark's 10,000). Start with `start()`, stop with `stop()`."""

    def __init__(self, pages: dict[str, Page] | None = None, route: Route | None = None,
                 on_request: Callable[[str, str], Awaitable[None] | None] | None = None) -> None:
        self.pages = dict(pages or {})
        self.route = route
        self.on_request = on_request
        self.counts: Counter[tuple[str, str]] = Counter()
        self.targets: Counter[tuple[str, str]] = Counter()  # by path and query
        self.arrivals: dict[str, list[float]] = {}  # monotonic times, by path
        self.in_flight = 0
        self.most_in_flight = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hits(self, path: str, method: str | None = None) -> int:
        """Requests that reached `path` (any method, or only `method`)."""
        with self._lock:
            return sum(n for (m, p), n in self.counts.items()
                       if p == path and (method is None or m == method))

    def start(self) -> SiteServer:
        self._thread = threading.Thread(target=self._serve, daemon=True, name="site-server")
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=2048))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await reader.readexactly(1)
            if first == b"\x16":  # a TLS handshake: answer in plain HTTP, as a plain server does
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            while True:
                head = first + await reader.readuntil(b"\r\n\r\n")
                first = b""
                method, target = head.split(b" ", 2)[:2]
                path = target.decode("latin-1").split("?", 1)[0]
                keep = await self._answer(method.decode(), path, writer,
                                          target.decode("latin-1"))
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
                asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, path: str, writer: asyncio.StreamWriter,
                      target: str = "") -> bool:
        with self._lock:
            self.counts[(method, path)] += 1
            self.targets[(method, target or path)] += 1
            self.arrivals.setdefault(path, []).append(time.monotonic())
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.on_request is not None:
                waited = self.on_request(method, target or path)
                if waited is not None:
                    await waited
            page = self.pages.get(path) or (self.route(method, path) if self.route else None)
            page = page or Page(404, b"<html><body>No such page</body></html>")
            if page.delay:
                await asyncio.sleep(page.delay)
            if page.hang:
                await asyncio.sleep(3600)
            if page.drop:
                return False
            status = page.head_status if method == "HEAD" and page.head_status else page.status
            length = page.huge or len(page.body)
            lines = [f"HTTP/1.1 {status} X", f"Content-Length: {length}",
                     "Content-Type: text/html; charset=utf-8"]
            lines += [f"{k}: {v}" for k, v in page.headers.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            if method != "HEAD":
                if page.huge:
                    return await self._stream_huge(writer, page.huge)
                writer.write(page.body)
            await writer.drain()
            return True
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _stream_huge(self, writer: asyncio.StreamWriter, size: int) -> bool:
        sent = 0
        try:
            while sent < size:
                chunk = HUGE_CHUNK[: min(len(HUGE_CHUNK), size - sent)]
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
        except ConnectionError:
            return False
        return True
