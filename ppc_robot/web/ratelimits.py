"""Per-address rate limits (Flask-Limiter's storage and strategy), one limiter per app.

A module-level Limiter keeps one storage for every app built in the process, so each app
gets its own: memory by default, the store of RATELIMIT_STORAGE_URI (Redis) when set, which
every web process then shares.
"""

from __future__ import annotations

import logging

from flask import Flask, abort, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

security_log = logging.getLogger("ppc_robot.security")

DEFAULT_LIMITS = {
    "login": "20 per minute",
    "signup": "10 per hour",
    "reset": "10 per hour",
    "invite": "20 per hour",
    "confirm": "5 per hour",
}


def init_rate_limits(app: Flask) -> Limiter:
    """Bind a limiter of its own to `app`."""
    for scope, value in DEFAULT_LIMITS.items():
        app.config.setdefault(f"PPC_ROBOT_RATE_LIMIT_{scope.upper()}", value)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "ppc_robot")
    limiter = Limiter(
        get_remote_address,
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
        key_prefix=app.config["RATELIMIT_KEY_PREFIX"],
    )
    limiter.init_app(app)
    app.extensions["ppc_robot_limiter"] = limiter
    return limiter


def rate_limit(scope: str) -> None:
    """Count this request against the address's limit for `scope`; answer 429 past it."""
    limiter: Limiter = current_app.extensions["ppc_robot_limiter"]
    item = parse(current_app.config[f"PPC_ROBOT_RATE_LIMIT_{scope.upper()}"])
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    if not limiter.limiter.hit(item, prefix, scope, get_remote_address()):
        security_log.warning("rate limit %s reached by an address", scope)
        abort(429)


def reset_rate_limits(app: Flask) -> None:
    """Forget every count (tests)."""
    app.extensions["ppc_robot_limiter"].reset()
