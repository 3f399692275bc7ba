"""Progress of a batch for people: a tqdm bar on a terminal, a line now and then otherwise (cron, CI, a log)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO


class ProgressBar:
    """The CLI's progress for a batch, as a progress callback ``(done, total)``.

    On a terminal a tqdm bar. Otherwise (cron, CI, a log file) one line per ``every`` courses or ``seconds``
    seconds, whichever comes first, and one at the end: enough to see that a long night run moves, without a
    line per course."""

    def __init__(
        self, stream: TextIO, every: int = 100, seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = every
        self.seconds = seconds
        self._clock = clock
        self._bar: Any = None
        self._last_done = 0
        self._last_time = clock()

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=total, file=self.stream, unit=" forløb", leave=True, dynamic_ncols=True)
            self._bar.update(done - self._bar.n)
            return
        now = self._clock()
        self._seen = (done, total)
        if done >= total or done - self._last_done >= self.every or now - self._last_time >= self.seconds:
            self._line(done, total)
            self._last_done, self._last_time = done, now

    def _line(self, done: int, total: int) -> None:
        self.stream.write(f"smdb: {done}/{total} forløb behandlet\n")
        self.stream.flush()

    def close(self) -> None:
        """At the end (also of a run stopped early): the last count, if it was not the last line written."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            return
        done, total = getattr(self, "_seen", (0, 0))
        if total and done != self._last_done:
            self._line(done, total)
            self._last_done = done
