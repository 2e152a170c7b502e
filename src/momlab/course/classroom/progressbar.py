"""What `momlab class autograde` shows while it grades: a progress bar, and a summary table at the end.

    bar = progressbar.Bar(sys.stdout)
    bar.start(total, labs, at_once)   # once the labs are prepared
    bar.print("a line")               # printed above the bar
    bar.done(result)                  # an autograde.Graded
    bar.finish()
    print(progressbar.table(results))

In a terminal the bar is one line, redrawn every second, with the result lines scrolling above it:

    [#########...............]  37/130 graded, 2 not graded, 1 flagged  4:12 elapsed, about 6:30 to go

Piped to a log it prints a plain progress line at most every 10% or every minute instead, with no
control characters. The time to go weighs what is left by how long each lab's submissions have taken
so far (lab 04 takes several times lab 01), divided by how many are graded at once.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import defaultdict

WIDTH = 24  # characters of the bar itself
LOG_EVERY = 60.0  # seconds between progress lines in a log, at most
LOG_STEP = 0.1  # ... or this share of the submissions


def clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Bar:
    def __init__(self, stream=None, interactive: bool | None = None, now=time.monotonic):
        self.stream = stream or sys.stdout
        self.interactive = _is_terminal(self.stream) if interactive is None else interactive
        self.now = now
        self.total = 0
        self.graded = self.failed = self.flagged = 0
        self.seconds: dict[str, list[float]] = defaultdict(list)  # lab -> seconds of its finished submissions
        self.left: dict[str, int] = defaultdict(int)  # lab -> submissions not finished
        self.started = self.logged_at = 0.0
        self.at_once = 0
        self.logged_share = 0.0
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    # -- what autograde calls ----------------------------------------------------------------------------

    def start(self, total: int, labs: list[str] | None = None, at_once: int = 0) -> None:
        """`labs`: the lab of every submission to grade, and `at_once`: how many are graded at a time (both for
        the time to go; without them it goes by what it sees)."""
        with self._lock:
            self.total, self.started, self.at_once = total, self.now(), at_once
            self.logged_at = self.started
            for lab in labs or []:
                self.left[lab] += 1
            self._draw()
        if self.interactive:
            self._ticker = threading.Thread(target=self._tick, name="momlab-progress", daemon=True)
            self._ticker.start()

    def print(self, line: str) -> None:
        with self._lock:
            self._clear()
            self.stream.write(line + "\n")
            self._draw()

    def done(self, result) -> None:
        with self._lock:
            if result.ok:
                self.graded += 1
            else:
                self.failed += 1
            self.flagged += bool(result.flags)
            if self.left.get(result.lab, 0) > 0:
                self.left[result.lab] -= 1
            if result.ok and result.seconds > 0:
                self.seconds[result.lab].append(result.seconds)
            self._draw()

    def finish(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self._lock:
            if self.interactive:
                self._clear()
            if self.total:
                self.stream.write(self.status(final=True) + "\n")
            self.stream.flush()

    # -- what it shows -----------------------------------------------------------------------------------

    def status(self, final: bool = False) -> str:
        finished = self.graded + self.failed
        counts = f"{finished}/{self.total} done: {self.graded} graded, {self.failed} not graded, {self.flagged} flagged"
        elapsed = self.now() - self.started
        if final:
            return f"{counts}, in {clock(elapsed)}"
        to_go = self.to_go()
        eta = "time to go unknown yet" if to_go is None else f"about {clock(to_go)} to go"
        return f"{counts}  {clock(elapsed)} elapsed, {eta}"

    def to_go(self) -> float | None:
        """Seconds left: the seconds the submissions left should take (by their lab's mean so far, else the mean
        of all), divided by how many are graded at once (else by the parallelism seen so far: seconds graded
        per second of wall, which runs low until the first round is done)."""
        finished = [s for seconds in self.seconds.values() for s in seconds]
        elapsed = self.now() - self.started
        if not finished or elapsed <= 0:
            return None
        overall = sum(finished) / len(finished)
        work_left = sum(n * (sum(self.seconds[lab]) / len(self.seconds[lab]) if self.seconds.get(lab) else overall)
                        for lab, n in self.left.items())
        if not self.left:  # no labs given: every submission left counts as the mean
            work_left = (self.total - self.graded - self.failed) * overall
        left = self.total - self.graded - self.failed
        parallel = min(self.at_once, left) if self.at_once else sum(finished) / elapsed
        return work_left / max(parallel, 1e-9)

    def line(self) -> str:
        finished = self.graded + self.failed
        filled = int(WIDTH * finished / self.total) if self.total else 0
        return f"[{'#' * filled}{'.' * (WIDTH - filled)}] {self.status()}"

    # -- drawing -----------------------------------------------------------------------------------------

    def _draw(self) -> None:
        if not self.total:
            return
        if self.interactive:
            self.stream.write("\r" + self.line()[: _columns() - 1] + "\x1b[K")
            self.stream.flush()
            return
        finished = self.graded + self.failed
        share = finished / self.total
        now = self.now()
        if 0 < finished < self.total and (share - self.logged_share >= LOG_STEP or now - self.logged_at >= LOG_EVERY):
            self.logged_share, self.logged_at = share, now
            self.stream.write(f"progress: {self.status()}\n")
            self.stream.flush()

    def _clear(self) -> None:
        if self.interactive and self.total:
            self.stream.write("\r\x1b[K")

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._draw()


def table(results) -> str:
    """One row per lab: submissions, graded, not graded, flagged, mean score, and the slowest submission."""
    rows = defaultdict(list)
    for result in results:
        rows[result.lab].append(result)
    if not rows:
        return ""
    lines = [f"{'lab':<28} {'submissions':>11} {'graded':>7} {'not graded':>11} {'flagged':>8} {'mean score':>11} {'slowest':>8}"]
    for lab in sorted(rows):
        done = rows[lab]
        graded = [r for r in done if r.ok]
        mean = (f"{sum(r.score for r in graded) / len(graded):.1f}/{max(r.max_score for r in graded):g}" if graded else "-")
        slowest = clock(max((r.seconds for r in done), default=0))
        lines.append(f"{lab:<28} {len(done):>11} {len(graded):>7} {len(done) - len(graded):>11} "
                     f"{sum(bool(r.flags) for r in done):>8} {mean:>11} {slowest:>8}")
    return "\n".join(lines)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def _columns() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 120
