"""Charts as inline SVG text, for HTML that must stand alone (the progress view, the class report),
and as figures a notebook shows (the practice exam's chart).

Figures are built with matplotlib's object API, never pyplot, so making one neither needs a display
nor changes the plotting backend of a notebook that calls us.
"""

from __future__ import annotations

import functools
import io


@functools.cache
def _shown_figure_class():
    """A matplotlib Figure that shows itself as SVG in a notebook. Without pyplot, no inline backend
    registers a display for figures, and a bare Figure would show as its text repr."""
    from matplotlib.figure import Figure

    class ShownFigure(Figure):
        def _repr_svg_(self) -> str:
            return svg(self)

    return ShownFigure


def figure(width: float, height: float):
    """A new matplotlib Figure of this size in inches, with constrained layout."""
    return _shown_figure_class()(figsize=(width, height), layout="constrained")


def svg(fig) -> str:
    """The figure as an <svg> element (no XML prologue), ready to paste into HTML."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def share_bars(ax, labels: list[str], shares: list[float], title: str) -> None:
    """Horizontal bars of shares (0..1), the first label on top, red below half and green at 100 %."""
    colours = ["#2e7d32" if s >= 1 else "#f9a825" if s >= 0.5 else "#c62828" for s in shares]
    positions = range(len(labels))
    ax.barh(list(positions), [100 * s for s in shares], color=colours)
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% passed")
    ax.set_title(title, loc="left")
    ax.grid(axis="x", alpha=0.3)
