"""The project's known errors. Each one prints as one line that says what went wrong."""

from __future__ import annotations

import os


class RecsysError(Exception):
    """Base of every error the CLI and the app turn into a one-line message."""


class UsageError(RecsysError):
    """A bad command-line argument or request (unknown genre, title, user...)."""


class DataError(RecsysError):
    """A dataset problem: the file, the line (1-based, header is line 1) and why."""

    def __init__(self, path: str | os.PathLike, reason: str, line: int | None = None):
        self.path = str(path)
        self.reason = reason
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


class BundleError(RecsysError):
    """A trained bundle is missing, damaged, tampered with or of another schema."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class StaleBundleError(BundleError):
    """The bundle was made from other data or another config than asked for."""


class MissingBundleError(BundleError):
    """No bundle has been trained yet."""


class TrainingLockedError(RecsysError):
    """Another training holds the artifacts lock."""


def known_errors() -> tuple[type[Exception], ...]:
    """Errors shown to users as one line (CLI exit 2, st.error in the app)."""
    return (RecsysError, FileNotFoundError, PermissionError, IsADirectoryError)
