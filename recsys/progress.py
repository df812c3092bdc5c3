"""One progress callback type for long work, and the one text bar that draws it.

Training, evaluation and downloads report ``progress(done, total, text)``: ``done`` out
of ``total`` in the work's own units (epochs, bytes, a fraction out of 1) and a short
line saying what is happening. The CLI draws it with :class:`TextBar`; the app's
background jobs store it for the page to poll.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    def __call__(self, done: float, total: float, text: str = "") -> None: ...


def fraction_of(done: float, total: float) -> float:
    """``done / total`` clipped to [0, 1]; 0 where the total is unknown."""
    return min(max(done / total, 0.0), 1.0) if total > 0 else 0.0


class TextBar:
    """A one-line bar on stderr, ``[####......]  40% text``, redrawn at most 10 times a second.

    The line ends once ``done`` reaches ``total`` (or at :meth:`close`).
    """

    def __init__(self, width: int = 30, stream: TextIO | None = None, min_interval: float = 0.1):
        self.width = width
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self._drawn_at = float("-inf")
        self._last = ""

    def __call__(self, done: float, total: float, text: str = "") -> None:
        finished = total > 0 and done >= total
        now = time.monotonic()
        if not finished and now - self._drawn_at < self.min_interval:
            return
        self._drawn_at = now
        fraction = fraction_of(done, total)
        filled = int(self.width * fraction)
        line = f"\r[{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} {text}".rstrip()
        pad = max(len(self._last) - len(line), 0)
        self._last = line
        self.stream.write(line + " " * pad)
        if finished:
            self.close()
        self.stream.flush()

    def close(self) -> None:
        """End the line, if one was drawn."""
        if self._last:
            self.stream.write("\n")
            self.stream.flush()
            self._last = ""


PROGRESS_KEY = "progress"


class JsonLinesProgress:
    """Progress as one JSON line per report on a stream, for a program that runs this
    one as a child (the app's jobs): ``{"progress": [done, total, text]}``.

    A report with the same text comes at most every ``min_interval`` seconds.
    """

    def __init__(self, stream: TextIO | None = None, min_interval: float = 0.2):
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self._drawn_at = float("-inf")
        self._text: str | None = None

    def __call__(self, done: float, total: float, text: str = "") -> None:
        import json

        now = time.monotonic()
        finished = total > 0 and done >= total
        if text == self._text and not finished and now - self._drawn_at < self.min_interval:
            return
        self._drawn_at, self._text = now, text
        line = json.dumps({PROGRESS_KEY: [float(done), float(total), str(text)]})
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Nothing to end: every report is a whole line."""


def parse_progress_line(line: str) -> tuple[float, float, str] | None:
    """A line written by :class:`JsonLinesProgress` as (done, total, text); None for any
    other line (a warning, an error)."""
    import json

    if not line.startswith('{"' + PROGRESS_KEY + '"'):
        return None
    try:
        done, total, text = json.loads(line)[PROGRESS_KEY]
        return float(done), float(total), str(text)
    except (ValueError, TypeError, KeyError):
        return None
