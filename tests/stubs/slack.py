"""A stand-in for Slack's incoming webhooks on loopback, speaking their wire format.

POST /services/{T}/{B}/{token} with a JSON body; answers are plain text, as Slack's are:
200 "ok", 400 "invalid_payload" (not JSON) or "no_text", 403 "invalid_token" (revoked),
404 "no_service" (unknown hook), 410 "channel_is_archived", 429 with Retry-After, 500 "rollup_error".
Tests register hooks, queue failures and read back what each hook received.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class _Hook:
    state: str = "ok"  # ok, archived, revoked
    queued: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)


class SlackStub:
    """Start with `start()`; `url_for(path)` is the base the app's SLACK_WEBHOOK_BASE_URL takes."""

    def __init__(self) -> None:
        self._hooks: dict[str, _Hook] = {}
        self._received: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.requests = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, text, headers = stub._answer(self.path, self.headers.get("Content-Type", ""), body)
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> SlackStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_hook(self, path: str, state: str = "ok") -> str:
        """Register a webhook path (/services/T…/B…/token); returns its public Slack URL."""
        with self._lock:
            self._hooks[path] = _Hook(state=state)
        return f"https://hooks.slack.com{path}"

    def set_state(self, path: str, state: str) -> None:
        with self._lock:
            self._hooks[path].state = state

    def fail_next(self, path: str, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        """Answer the next post to `path` with this status instead of taking it."""
        with self._lock:
            self._hooks[path].queued.append((status, body, headers or {}))

    def received(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._received[path])

    def all_received(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {path: list(messages) for path, messages in self._received.items()}

    def _answer(self, path: str, content_type: str, body: bytes) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            self.requests += 1
            hook = self._hooks.get(path)
            if hook is None:
                return 404, "no_service", {}
            if hook.queued:
                return hook.queued.pop(0)
            if hook.state == "revoked":
                return 403, "invalid_token", {}
            if hook.state == "archived":
                return 410, "channel_is_archived", {}
            try:
                if "json" not in content_type:
                    raise ValueError("not JSON")
                message = json.loads(body)
                if not isinstance(message, dict):
                    raise ValueError("not an object")
            except ValueError:
                return 400, "invalid_payload", {}
            if not message.get("text") and not message.get("blocks"):
                return 400, "no_text", {}
            self._received[path].append(message)
            return 200, "ok", {}
