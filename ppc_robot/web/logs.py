"""Link tokens cut out of every log the app configures: werkzeug's access log under `flask run`,
gunicorn's access and error logs (gunicorn.conf.py names `GunicornLogger`), and the app's own.

The landing pages of reset, invite and confirmation links move the token into the session and
redirect, so only that first request carries it; the server logs that request line before any
view runs, hence a filter on the loggers themselves.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as _GunicornBaseLogger

# The routes whose last segment is a token (tests check every `<token>` route is listed).
TOKEN_ROUTES = ("/password/reset/", "/invite/", "/email/confirm/", "/output-link/")
_TOKEN_IN_PATH = re.compile(
    "(" + "|".join(re.escape(route) for route in TOKEN_ROUTES) + r")[^\s\"'?#/\[\]]+"
)
REDACTED = "[redacted]"


def redact_tokens(text: str) -> str:
    """`text` with the token of every link path in it replaced by [redacted]."""
    return _TOKEN_IN_PATH.sub(r"\1" + REDACTED, text)


class RedactTokens(logging.Filter):
    """Rewrites a record whose message holds a link token; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's to report, not ours
            return True
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _add_filter(logger: logging.Logger) -> None:
    if not any(isinstance(existing, RedactTokens) for existing in logger.filters):
        logger.addFilter(RedactTokens())


def install_token_redaction(app_logger: logging.Logger) -> None:
    """Filter werkzeug's logger (the development server's access log) and the app's."""
    _add_filter(logging.getLogger("werkzeug"))
    _add_filter(app_logger)


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's logger with link tokens cut out of its access and error logs."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        _add_filter(self.access_log)
        _add_filter(self.error_log)
