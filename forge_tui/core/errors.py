"""The error every layer raises when the user should read the message."""

from __future__ import annotations


class ForgeError(Exception):
    """An error whose message is a sentence a user can act on."""

    exit_code: int = 1


class NotFound(ForgeError):
    exit_code = 5


class Conflict(ForgeError):
    """A name is taken, or the action does not fit the current state."""

    exit_code = 1


class InvalidInput(ForgeError):
    exit_code = 2


class DatabaseBusy(ForgeError):
    """Another process kept the database's write lock for longer than this one would wait."""

    exit_code = 7
