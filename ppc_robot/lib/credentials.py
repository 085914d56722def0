"""Secrets at rest: Fernet tokens under a list of keys, the first one current (MultiFernet)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ppc_robot.lib.errors import PpcRobotError


class CredentialsKeyError(PpcRobotError):
    """A stored secret cannot be read with the configured keys."""


def generate_key() -> str:
    """A new random Fernet key, as text."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(value: str) -> list[str]:
    """Keys from a comma-separated setting, newest first."""
    return [key.strip() for key in value.split(",") if key.strip()]


class Vault:
    """Encrypts with the first key, decrypts with any, re-encrypts under the first on rotate."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one credentials key is required")
        self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise CredentialsKeyError(
                "A stored secret cannot be decrypted with the configured credentials keys."
            ) from exc

    def encrypt_json(self, value: dict[str, Any]) -> str:
        return self.encrypt(json.dumps(value, sort_keys=True))

    def decrypt_json(self, token: str) -> dict[str, Any]:
        return json.loads(self.decrypt(token))

    def rotate(self, token: str) -> str:
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise CredentialsKeyError(
                "A stored secret cannot be decrypted with the configured credentials keys."
            ) from exc
