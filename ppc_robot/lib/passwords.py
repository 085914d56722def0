"""Password hashing (Argon2id at OWASP's parameters) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import N_

PASSWORD_MIN = 12
PASSWORD_MAX = 128

# OWASP Password Storage Cheat Sheet: Argon2id, m = 19 MiB, t = 2, p = 1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the e-mail is unknown, so that a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("ppc-robot-dummy-password")


class PasswordPolicyError(PpcRobotError):
    """The password does not meet the policy; the message says what to change."""


def check_password_policy(password: str) -> None:
    """Refuse a password that is too short or too long (no composition rules, per ASVS)."""
    if len(password) < PASSWORD_MIN:
        raise PasswordPolicyError(N_("Use at least %(count)s characters."), count=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise PasswordPolicyError(N_("Use at most %(count)s characters."), count=PASSWORD_MAX)


def hash_password(password: str) -> str:
    """The Argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing hash costs the same time and fails."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
