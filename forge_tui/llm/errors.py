"""Typed backend failures, each with a sentence the user can act on."""

from __future__ import annotations

from forge_tui.core.errors import ForgeError


class BackendError(ForgeError):
    """The server answered with an error, or the answer broke off."""

    exit_code = 6
    retryable = False


class BackendUnavailable(BackendError):
    retryable = True


class BackendBusy(BackendError):
    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BackendTimeout(BackendError):
    pass


class ModelNotFound(BackendError):
    def __init__(self, message: str, model: str) -> None:
        super().__init__(message)
        self.model = model


class StructuredOutputRefused(BackendError):
    """The server refused the way the request asked for structured output; another mode may work."""

    def __init__(self, message: str, mode: str) -> None:
        super().__init__(message)
        self.mode = mode


class DiskFull(BackendError):
    """The server ran out of disk space (a pull)."""


class BlobRejected(BackendError):
    """The server refused an uploaded file (its sha256 is not the digest it was sent under)."""
