"""A progress bar for long connector jobs (the full catalog export): an ipywidgets bar in a notebook,
a line of text elsewhere. Updates are throttled, so thousands of messages cost a few redraws."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str = "", done: int = 0, widget: bool | None = None, every: float = 0.25):
        self.total = max(int(total), 0)
        self.done = done
        self.label = label
        self.every = every
        self._last = 0.0
        self._bar = self._text = None
        self._handle = None
        if widget is None:
            widget = _in_kernel()
        if widget:
            try:
                import ipywidgets
                from IPython.display import display

                self._bar = ipywidgets.IntProgress(value=done, min=0, max=max(self.total, 1), description="", bar_style="info")
                self._text = ipywidgets.Label(self._caption())
                display(ipywidgets.HBox([self._bar, self._text]))
            except Exception:  # no widgets available: fall back to text
                self._bar = None
        if self._bar is None:
            self._line()

    def update(self, done: int, label: str | None = None, force: bool = False) -> None:
        self.done = done
        if label is not None:
            self.label = label
        now = time.monotonic()
        if not force and now - self._last < self.every and done < self.total:
            return
        self._last = now
        if self._bar is not None:
            self._bar.value = min(done, self._bar.max)
            self._text.value = self._caption()
        else:
            self._line()

    def finish(self, label: str | None = None, failed: bool = False) -> None:
        self.update(self.done, label, force=True)
        if self._bar is not None:
            self._bar.bar_style = "danger" if failed else ("success" if self.done >= self.total else "warning")
        else:
            self._line(end="\n")

    def _caption(self) -> str:
        share = 100 * self.done / self.total if self.total else 100
        return f"{self.done:,} / {self.total:,} ({share:.0f} %) {self.label}"

    def _line(self, end: str = "") -> None:
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        if self._handle is None and _in_kernel():
            from IPython.display import display

            self._handle = display(self._plain(filled, width), display_id=True)
            return
        if self._handle is not None:
            self._handle.update(self._plain(filled, width))
        else:
            sys.stdout.write("\r" + self._plain(filled, width) + end)
            sys.stdout.flush()

    def _plain(self, filled: int, width: int):
        text = f"[{'#' * filled}{'.' * (width - filled)}] {self._caption()}"
        return _Text(text)


class _Text(str):
    """Plain text that a notebook shows as text (not as a quoted string)."""

    def __repr__(self) -> str:
        return str(self)


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
