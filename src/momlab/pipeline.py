"""The Magento Commerce connector's pipeline as a picture (labs 06 and 08): how the store's settings get it
onto MOM's bus, and where a message waits, is worked through and is shown.

    from momlab import pipeline
    pipeline.draw()                                     # displays as a picture in a notebook
    pipeline.draw(highlight=["mcom_api_messages", "process"],
                  notes={"mcom_api_messages": "3 NEW", "log": "2 ERROR"}, title="Where the stock update waits")
    pipeline.STAGES                                     # each stage: key, name, what it does, confidence

The stages, left to right, then down to the bus and back up:

    app/etc/env.php -> bin/magento oms:service-bus:register -> MIB (MOM's bus)
    MIB <-> mcom_api_messages -> bin/magento oms:messages:process -> MCOM > Message Log (Retry -> the table)

Plain SVG text, like momlab.diagrams: it costs nothing to import, shows in any notebook output (nbgrader's
HTML feedback included), and its labels are real text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline: `key` names it in `draw(highlight=..., notes=...)`."""

    key: str
    name: str  # as a developer meets it: a file, a command, a table, an Admin page
    what: str  # what happens there
    confidence: str  # the course's confidence tag for the stage's role


STAGES: tuple[Stage, ...] = (
    Stage("env.php", "app/etc/env.php", "the serviceBus block: bus URL, OAuth client, application_id, secret", "[code]"),
    Stage("register", "bin/magento oms:service-bus:register",
          "reads serviceBus, gets an OAuth token, sends magento.service_bus.remote.register", "[code] [doc]"),
    Stage("MIB", "MIB: Magento Integration Bus", "MOM's bus: takes the store's messages, delivers MOM's to the store", "[doc]"),
    Stage("mcom_api_messages", "table mcom_api_messages",
          "every message in and out; an outgoing one OMS could not take is retried for 48 h", "[doc]"),
    Stage("process", "bin/magento oms:messages:process", "works through the table (run by cron: [inferred])", "[doc]"),
    Stage("log", "MCOM > Message Log", "status (SUCCESS), body, history, error trace; mass action Retry", "[doc]"),
)
KEYS = tuple(stage.key for stage in STAGES)

_W, _H = 170, 66  # a stage's box
_TOP_Y, _BUS_Y = 64, 234  # top row (Commerce), bottom row (MOM)
_XS = {"env.php": 16, "register": 216, "mcom_api_messages": 436, "process": 636, "log": 836}
_BUS_X, _BUS_W = 216, 390
_WIDTH, _HEIGHT = 1024, 326
_INK, _LINE, _MOM, _HIGHLIGHT, _GREY = "#202124", "#4a6fa5", "#b45309", "#c62828", "#5f6368"


@dataclass(frozen=True)
class Pipeline:
    """A drawn pipeline: `svg` is its SVG text; a notebook displays it as a picture."""

    svg: str
    highlight: tuple[str, ...]
    notes: tuple[tuple[str, str], ...]

    def _repr_svg_(self) -> str:
        return self.svg


def draw(highlight: Iterable[str] | str = (), notes: dict[str, str] | None = None, title: str | None = None) -> Pipeline:
    """Draw the connector's pipeline: env.php -> oms:service-bus:register -> MIB -> mcom_api_messages ->
    oms:messages:process -> MCOM > Message Log.

    `highlight`: stage keys (see `KEYS`: "env.php", "register", "MIB", "mcom_api_messages", "process",
    "log") drawn in red, e.g. where a problem is. `notes`: a short text per stage key, written in its
    box (e.g. live counts from a connector's Message Log). `title`: a line above the picture. An unknown
    key raises ValueError, naming the known ones."""
    wanted = (highlight,) if isinstance(highlight, str) else tuple(highlight)
    notes = dict(notes or {})
    unknown = sorted({*wanted, *notes} - set(KEYS))
    if unknown:
        raise ValueError(f"unknown stage {', '.join(map(repr, unknown))}: the stages are {', '.join(KEYS)}")
    head = 26 if title else 0
    height = _HEIGHT + head
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}" '
        'font-family="DejaVu Sans, Arial, sans-serif" font-size="11" role="img" '
        'aria-label="The connector pipeline: env.php, register, MIB, mcom_api_messages, messages:process, Message Log">',
        "<defs>" + "".join(
            f'<marker id="pipe-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            for name, color in (("ink", _LINE), ("mom", _MOM))) + "</defs>",
        f'<rect width="{_WIDTH}" height="{height}" fill="white"/>',
    ]
    if title:
        parts.append(f'<text x="12" y="18" font-size="13" font-weight="bold" fill="{_INK}">{html.escape(title)}</text>')
    # the two sides: Commerce with the connector on top, MOM below
    parts.append(_lane(6, head + 8, _WIDTH - 12, 150, "#f1f5fb", "Magento Commerce with the MCOM connector"))
    parts.append(_lane(6, head + 180, _WIDTH - 12, 138, "#fdf4ea", "MOM (OMS)"))
    y_top, y_bus = head + _TOP_Y, head + _BUS_Y
    boxes = {key: (x, y_top, _W) for key, x in _XS.items()} | {"MIB": (_BUS_X, y_bus, _BUS_W)}
    # arrows first, boxes over them
    right = {key: x + w for key, (x, _, w) in boxes.items()}
    mid = y_top + _H / 2
    parts.append(_arrow(right["env.php"], mid, _XS["register"], mid, "read", "ink", above=True))
    parts.append(_arrow(right["mcom_api_messages"], mid, _XS["process"], mid, "", "ink"))
    parts.append(_arrow(right["process"], mid, _XS["log"], mid, "", "ink"))
    reg_x = _XS["register"] + _W / 2
    parts.append(_arrow(reg_x, y_top + _H, reg_x, y_bus, "remote.register", "ink", side="left"))
    queue_x = _XS["mcom_api_messages"] + _W / 2
    parts.append(_arrow(queue_x - 34, y_bus, queue_x - 34, y_top + _H, "MOM's messages", "mom", side="left"))
    parts.append(_arrow(queue_x + 34, y_top + _H, queue_x + 34, y_bus, "the store's orders, catalog", "ink", side="right"))
    log_x, back_x = _XS["log"] + _W / 2, queue_x
    parts.append(f'<path d="M{log_x},{y_top} C{log_x},{y_top - 36} {back_x},{y_top - 36} {back_x},{y_top}" fill="none" '
                 f'stroke="{_LINE}" stroke-width="1.3" stroke-dasharray="5 4" marker-end="url(#pipe-ink)"/>')
    parts.append(f'<text x="{(log_x + back_x) / 2}" y="{y_top - 30}" text-anchor="middle" fill="{_GREY}">Retry (mass action)</text>')
    for stage in STAGES:
        x, y, w = boxes[stage.key]
        parts.append(_box(stage, x, y, w, stage.key in wanted, notes.get(stage.key)))
    parts.append("</svg>")
    return Pipeline("".join(parts), wanted, tuple(sorted(notes.items())))


def _lane(x: float, y: float, w: float, h: float, fill: str, label: str) -> str:
    return (f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="{fill}" stroke="#dadce0"/>'
            f'<text x="{x + 10}" y="{y + 16}" font-weight="bold" fill="{_GREY}">{html.escape(label)}</text>')


def _box(stage: Stage, x: float, y: float, w: float, highlighted: bool, note: str | None) -> str:
    stroke, width = (_HIGHLIGHT, 2.6) if highlighted else ((_MOM if stage.key == "MIB" else _LINE), 1.3)
    fill = "#fdecea" if highlighted else "white"
    mono = stage.key in ("env.php", "register", "mcom_api_messages", "process")
    family = ' font-family="DejaVu Sans Mono, monospace" font-size="10.5"' if mono else ""
    out = [f'<rect x="{x}" y="{y}" width="{w}" height="{_H}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>']
    lines = _name_lines(stage)
    for n, text in enumerate(lines):
        out.append(f'<text x="{x + w / 2}" y="{y + 18 + 13 * n}" text-anchor="middle" font-weight="bold"{family} '
                   f'fill="{_INK}">{html.escape(text)}</text>')
    out.append(f'<text x="{x + w / 2}" y="{y + _H - 7}" text-anchor="middle" font-size="9.5" fill="{_GREY}">'
               f'{html.escape(stage.confidence)}</text>')
    if note:
        out.append(f'<text x="{x + w / 2}" y="{y + 47}" text-anchor="middle" font-weight="bold" '
                   f'fill="{_HIGHLIGHT if highlighted else _MOM}">{html.escape(str(note))}</text>')
    return "".join(out)


def _name_lines(stage: Stage) -> list[str]:
    """A stage's name on one or two lines, split where a reader expects it."""
    splits = {"env.php": ["app/etc/env.php", "'serviceBus' => [...]"], "register": ["bin/magento", "oms:service-bus:register"], "process": ["bin/magento", "oms:messages:process"],
              "mcom_api_messages": ["table", "mcom_api_messages"], "log": ["MCOM >", "Message Log"],
              "MIB": ["MIB: Magento Integration Bus", "MOM's service bus, JSON-RPC 2.0 over HTTP"]}
    return splits.get(stage.key, [stage.name])


def _arrow(x0: float, y0: float, x1: float, y1: float, label: str, kind: str, above: bool = False, side: str = "") -> str:
    color = _MOM if kind == "mom" else _LINE
    dash = ' stroke-dasharray="6 4"' if kind == "mom" else ""
    out = f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="{color}" stroke-width="1.4"{dash} marker-end="url(#pipe-{kind})"/>'
    if label:
        if above:
            out += f'<text x="{(x0 + x1) / 2}" y="{y0 - 6}" text-anchor="middle" fill="{_GREY}">{html.escape(label)}</text>'
        else:
            anchor, dx = ("start", 6) if side == "right" else ("end", -6)
            out += (f'<text x="{x0 + dx}" y="{(y0 + y1) / 2 - 4}" text-anchor="{anchor}" fill="{_GREY}">'
                    f'{html.escape(label)}</text>')
    return out
