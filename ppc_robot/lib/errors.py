"""The family of refusals whose message is meant for the user."""

from __future__ import annotations

from typing import Any


class PpcRobotError(Exception):
    """A refusal the user should read; the message is a sentence.

    `message` is an English msgid (marked with `N_`), `params` fill its `%(name)s`
    placeholders: `str()` gives it in English, `refusal_text` in the reader's language.
    """

    def __init__(self, message: str = "", **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)


class NotFoundError(PpcRobotError):
    """The object does not exist or belongs to someone else."""
