"""Random link tokens: 256 bits from `secrets`, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from ppc_robot.lib.errors import PpcRobotError

INVALID_LINK = "This link is no longer valid. Ask for a new one."


class InvalidLinkError(PpcRobotError):
    """An expired, used, revoked, superseded or unknown link; deliberately says no more."""

    def __init__(self) -> None:
        super().__init__(INVALID_LINK)


def new_token() -> tuple[str, str]:
    """A fresh token for the link and the hash to store."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
