"""The progress line of a batch on stderr: fields done, errors, rate and ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO

MIN_INTERVAL_S = 0.5  # redraw at most this often


class Progress:
    """``batch: 120/1000 fields, 3 errors, 4.2 fields/s, ETA 3m29s``, redrawn in place on
    a terminal and printed every ``line_interval_s`` seconds otherwise (logs)."""

    def __init__(self, total: int, stream: TextIO | None = None, line_interval_s: float = 10.0) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = MIN_INTERVAL_S if self.tty else line_interval_s
        self.start = time.monotonic()
        self.last = -1e9
        self.done = 0
        self.errors = 0
        self.skipped = 0

    def update(self, error: bool, skipped: bool = False) -> None:
        """One more field finished (``error``: with an error row; ``skipped``: resumed)."""
        self.done += 1
        self.errors += bool(error)
        self.skipped += bool(skipped)  # resumed fields do not count in the rate
        now = time.monotonic()
        if now - self.last >= self.interval or self.done == self.total:
            self.last = now
            self._draw(now)

    def text(self, now: float | None = None) -> str:
        """The progress line."""
        now = time.monotonic() if now is None else now
        planned = self.done - self.skipped
        rate = planned / max(now - self.start, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta_text = "?" if eta == float("inf") else f"{int(eta // 60)}m{int(eta % 60):02d}s"
        return (f"batch: {self.done}/{self.total} fields, {self.errors} errors, "
                f"{rate:.1f} fields/s, ETA {eta_text}")

    def finish(self) -> None:
        """Draw the final line (unless just drawn) and end it."""
        if self.done != self.total or self.total == 0:
            self._draw(time.monotonic())
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def _draw(self, now: float) -> None:
        if self.tty:
            self.stream.write("\r" + self.text(now).ljust(72))
        else:
            self.stream.write(self.text(now) + "\n")
        self.stream.flush()
