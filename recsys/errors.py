"""The project's known errors. Each one prints as one line that says what went wrong."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

# The exit status of every command line for bad input (argparse's own choice).
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


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
    return (
        RecsysError,
        FileNotFoundError,
        FileExistsError,
        PermissionError,
        IsADirectoryError,
        NotADirectoryError,
    )


# C0 controls (ESC, BEL, …), DEL, C1 controls, and the bidi overrides that reorder what a
# terminal shows: a title or a path may hold them, and raw they move the cursor, retitle
# the window or hide text. Shown as \x1b, \u202e, … instead.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, keep: str = "") -> str:
    """``text`` with control characters shown escaped (``\x1b``), for a terminal.

    ``keep`` lists the ones that stay (``"\n"`` for a multi-line table)."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape_control(m), str(text))


def one_line(err: BaseException) -> str:
    """The error's message with every run of whitespace (newlines too) made one space,
    and any other control character (ESC, BEL) shown escaped."""
    return printable(" ".join(str(err).split()))


def exit_on_known_errors(
    main: Callable[[], int | None], also: tuple[type[Exception], ...] = ()
) -> int:
    """Run a command-line entry point and return its exit status.

    A known error (or one of ``also``) prints ``error: <one line>`` on stderr and gives
    ``EXIT_BAD_INPUT``, with no traceback; Ctrl-C gives 130; a reader that went away
    (``| head``) gives 0. ``main`` returns its own status (None counts as 0).
    """
    try:
        return main() or 0
    except (*known_errors(), *also) as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away; nothing to report
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
