"""The family of refusals whose message is meant for the user."""

from __future__ import annotations


class PpcRobotError(Exception):
    """A refusal the user should read; the message is a sentence."""


class NotFoundError(PpcRobotError):
    """The object does not exist or belongs to someone else."""
