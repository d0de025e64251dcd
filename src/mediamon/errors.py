"""One catalogue of mediamon's errors.

Every error a user can cause is a :class:`MediamonError` with a stable ``code`` and a
one-line, actionable message.  The CLI maps ``exit_code`` to the process exit status and
never prints a traceback for them.
"""

from __future__ import annotations

__all__ = [
    "MediamonError",
    "UsageError",
    "ConfigError",
    "InputError",
    "ModelError",
    "NothingProcessedError",
    "ScoringWorkerError",
]


class MediamonError(Exception):
    """Base class: a user-facing error with a code and an exit status."""

    code: str = "error"
    exit_code: int = 2

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:  # one line, always
        return " ".join(str(self.args[0]).split()) if self.args else self.code


class UsageError(MediamonError):
    """Bad command-line usage (unknown format, missing output, existing file without --force)."""

    code = "usage"
    exit_code = 2


class ConfigError(MediamonError):
    """A config file or override is invalid; the message names the file and key."""

    code = "config"
    exit_code = 2


class InputError(MediamonError):
    """An input file cannot be read at all (missing, unreadable, undecodable)."""

    code = "input"
    exit_code = 3


class ScoringWorkerError(MediamonError):
    """A scoring worker process died (killed, out of memory); the run can be resumed."""

    code = "worker_died"
    exit_code = 2


class ModelError(MediamonError):
    """A model directory is missing, incomplete, tampered with or of an unknown kind."""

    code = "model"
    exit_code = 2


class NothingProcessedError(MediamonError):
    """No input record could be used."""

    code = "nothing_processed"
    exit_code = 3
