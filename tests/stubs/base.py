"""A real HTTP server on loopback in a thread; stand-ins subclass it and route requests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200, **headers: str) -> Response:
        return cls(status, json.dumps(value).encode(),
                   {"Content-Type": "application/json", **headers})

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, b"", {"Location": location})


class _Server(ThreadingHTTPServer):
    # Python's default backlog of 5 drops the connections of a burst of concurrent calls (the
    # client then waits a second to retry), which no real platform does.
    request_queue_size = 128


class StubServer:
    """Start with `start()`, stop with `stop()`; `requests` records what arrived, and
    `most_in_flight` the most requests it was answering at once."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.latency = 0.0  # seconds every answer waits, outside the lock (benchmarks)
        self.in_flight = 0
        self.most_in_flight = 0
        # Called with each request before it is answered, outside the lock: a test looks at
        # the world as the platform sees it at that moment.
        self.on_request: Callable[[Request], None] | None = None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length))
                with stub.lock:
                    stub.in_flight += 1
                    stub.most_in_flight = max(stub.most_in_flight, stub.in_flight)
                if stub.on_request is not None:
                    stub.on_request(request)
                if stub.latency:
                    time.sleep(stub.latency)
                with stub.lock:
                    stub.in_flight -= 1
                    stub.requests.append(request)
                    response = stub.handle(request)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
