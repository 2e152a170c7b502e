"""Drawings of who talks to whom on the bus, as SVG pictures that a notebook shows (and that stay
pictures in any HTML made from it, nbgrader's feedback included).

    topology.three_ways()                            # sync, async and broadcast, side by side (lab 01)
    topology.hub(mom.state("remotes"))               # MOM and the remotes registered on it, with their topics
    topology.tunnel_path(edge.url, wms.url)          # hosted MOM -> tunnel -> your machine (lab 03)
    topology.tunnel_path(edge.url, wms.url, stopped="forward")   # ... with the hop where a delivery stopped in red

Each function returns a `Picture`: its `svg` attribute is the SVG text, and a notebook displays it as
an image. Plain SVG text, like momlab.diagrams: nothing to import, sharp at any size, real text labels.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import urlsplit

# The hops of tunnel_path, in the order a delivery meets them.
HOPS = ("registration", "url", "tunnel", "forward", "receiver", "answer")

_BLUE, _ORANGE, _GREY, _RED, _GREEN = "#1a5fb4", "#b45309", "#8a8a8a", "#c62828", "#2e7d32"
_BOX_FILL, _BOX_STROKE = "#e8f0fe", "#4a6fa5"
_FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="11"'


@dataclass(frozen=True)
class Picture:
    """A drawing: `svg` is its SVG text. A notebook shows it as an image (image/svg+xml)."""

    svg: str
    title: str = ""

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<momlab.topology.Picture: {self.title or 'drawing'}>"


def three_ways() -> Picture:
    """The three ways the bus carries a message, side by side: synchronous (the caller waits for the
    result), asynchronous (an empty acknowledgement now, the outcome later as a separate message) and
    broadcast (one event, delivered to every subscriber of its topic)."""
    canvas = _Canvas(960, 262, "Three ways the bus carries a message")
    panels = [
        ("synchronous (one to one)", ["caller", "MIB", "service"], [
            (0, 1, "request", "to"), (1, 2, "request", "from"), (2, 1, "result", "to"), (1, 0, "result", "from")],
         "the caller waits for the result"),
        ("asynchronous (one to one)", ["caller", "MIB", "service"], [
            (0, 1, "message", "to"), (1, 0, "empty acknowledgement", "from"), (1, 2, "delivered later", "from"),
            (2, 1, "outcome: a separate message", "to")],
         "nobody waits; the outcome comes later"),
        ("broadcast (event)", ["publisher", "MIB", "subscribers"], [
            (0, 1, "event", "to"), (1, 2, "to subscriber 1", "from"), (1, 2, "to subscriber 2", "from"),
            (1, 2, "to subscriber 3", "from")],
         "every subscriber of the topic gets it"),
    ]
    for n, (name, actors, arrows, note) in enumerate(panels):
        _mini_sequence(canvas, 10 + n * 318, 34, name, actors, arrows, note)
    return canvas.picture()


def hub(remotes, title: str = "Who MOM delivers to: the remotes registered on the bus") -> Picture:
    """MOM in the middle and each registered remote on the right, joined by an arrow that carries the
    topics the remote subscribes to (without "magento."). `remotes` is `mom.state("remotes")` (a
    DataFrame) or any list of dicts with `id`, `url` and `subscribes`."""
    rows = _rows(remotes)
    heights = [max(2, len(row["subscribes"]) + 1) * 15 + 18 for row in rows] or [40]
    total = sum(heights) + 14 * max(len(rows) - 1, 0)
    height = max(total, 70) + 70
    canvas = _Canvas(940, height, title)
    mom_y = 36 + (height - 36) / 2
    canvas.box(30, mom_y - 30, 150, 60, "MOM", "the bus (MIB)")
    if not rows:
        canvas.text(230, mom_y + 4, "(no remote is registered: MOM has nobody to deliver to)", fill=_GREY)
        return canvas.picture()
    y = 36 + (height - 36 - total) / 2
    for row, box_height in zip(rows, heights, strict=True):
        middle = y + box_height / 2
        canvas.arrow(180, mom_y, 540, middle, _ORANGE, dashed=True)
        canvas.rect(540, y, 380, box_height, _BOX_FILL, _BOX_STROKE)
        topics = [_short(topic) for topic in row["subscribes"]] or ["(no topic: it gets nothing)"]
        for k, topic in enumerate(topics):
            canvas.text(556, y + 34 + 15 * k, topic, size=10.5, fill="#3c4043")
        canvas.text(552, y + 16, str(row["id"]), bold=True)
        canvas.text(552 + 7.2 * len(str(row["id"])) + 12, y + 16, _ellipsis(str(row["url"]), 40), size=10, fill=_GREY)
        y += box_height + 14
    canvas.text(190, height - 10, "dashed orange: MOM delivers; each remote gets only the topics it subscribes to",
                size=10, fill=_GREY)
    return canvas.picture()


def tunnel_path(public_url: str, local_url: str, stopped: str | None = None,
                title: str = "A delivery from hosted MOM to your machine") -> Picture:
    """Hosted MOM -> the tunnel's public URL -> the server on your machine, and below it the direct
    route to a local URL, which MOM's cloud cannot take. `stopped`, one of HOPS, draws in red the hop
    where a delivery stopped: "registration" (MOM has nothing to send there), "url" (a URL MOM cannot
    reach), "tunnel" (the tunnel is closed), "forward" (the tunnel cannot reach your server),
    "receiver" (your receiver refused it or its handler failed), "answer" (the answer came too late)."""
    if stopped is not None and stopped not in HOPS:
        raise ValueError(f"stopped must be None or one of {', '.join(HOPS)}; got {stopped!r}")
    red = {hop: (_RED if hop == stopped else None) for hop in HOPS}
    canvas = _Canvas(940, 286, title)
    canvas.zone(14, 44, 420, 184, "the internet: Adobe's cloud and public names")
    canvas.zone(506, 44, 420, 184, "your machine (or your private network)")
    canvas.box(34, 84, 170, 64, "MOM (hosted)", "delivers to the registered url", stroke=red["registration"])
    tunnel_host = urlsplit(public_url).hostname or public_url
    canvas.box(364, 84, 210, 64, "tunnel", _ellipsis(tunnel_host, 32), stroke=red["tunnel"])
    local = urlsplit(local_url)
    canvas.box(736, 84, 170, 64, "your receiver", _ellipsis(f"{local.hostname}:{local.port}{local.path}", 28), stroke=red["receiver"])
    canvas.arrow(204, 104, 364, 104, _GREEN)
    canvas.text(284, 97, "POST to the public url", anchor="middle", size=10.5)
    canvas.arrow(574, 104, 736, 104, red["forward"] or _GREEN, width=3 if red["forward"] else 1.6)
    canvas.text(655, 97, "forwards it unchanged", anchor="middle", size=10.5)
    answer = red["answer"] or _GREY
    canvas.arrow(736, 130, 574, 130, answer, dashed=True, width=3 if red["answer"] else 1.6)
    canvas.arrow(364, 130, 204, 130, answer, dashed=True, width=3 if red["answer"] else 1.6)
    canvas.text(655, 143, "the answer", anchor="middle", size=10, fill=answer)
    canvas.text(284, 143, "back within MOM's time limit", anchor="middle", size=10, fill=answer)
    # the direct route: what registering the local url asks for
    direct = _RED if stopped in (None, "url") else _GREY  # once a tunnel is in use, the direct route is background
    canvas.path("M 120 148 C 120 205, 820 205, 820 148", direct, dashed=True, width=3 if stopped == "url" else 1.6)
    canvas.text(470, 214, f"registered {_ellipsis(local_url, 40)} directly: MOM's cloud cannot reach it", anchor="middle",
                size=10.5, fill=direct, bold=stopped == "url")
    legend = ("green: the route a delivery takes through a tunnel; red dashed: a local url, which hosted MOM cannot use"
              if stopped is None else f"red: where the delivery stopped ({stopped})")
    canvas.text(14, 250, legend, size=10, fill=_GREY)
    canvas.text(14, 268, "The tunnel's public name is on the internet; it passes each request on to a port on your machine.",
                size=10, fill=_GREY)
    return canvas.picture()


# --- drawing helpers -------------------------------------------------------------------------------

class _Canvas:
    def __init__(self, width: float, height: float, title: str):
        self.width, self.height, self.title = width, height, title
        self.parts: list[str] = []
        if title:
            self.text(12, 20, title, size=13, bold=True)

    def picture(self) -> Picture:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}" {_FONT} role="img">')
        title = f"<title>{html.escape(self.title)}</title>" if self.title else ""
        markers = "<defs>" + "".join(
            f'<marker id="head-{colour[1:]}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for colour in (_BLUE, _ORANGE, _GREY, _RED, _GREEN)) + "</defs>"
        background = f'<rect width="{self.width}" height="{self.height}" fill="white"/>'
        return Picture(head + title + markers + background + "".join(self.parts) + "</svg>", self.title)

    def text(self, x: float, y: float, text: str, size: float = 11, bold: bool = False, fill: str = "#202124",
             anchor: str = "start") -> None:
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}"{weight}>'
                          f"{html.escape(text)}</text>")

    def rect(self, x: float, y: float, width: float, height: float, fill: str, stroke: str, dashed: bool = False,
             stroke_width: float = 1.2) -> None:
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" rx="7" fill="{fill}" '
                          f'stroke="{stroke}" stroke-width="{stroke_width}"{dash}/>')

    def box(self, x: float, y: float, width: float, height: float, name: str, detail: str = "",
            stroke: str | None = None) -> None:
        self.rect(x, y, width, height, _BOX_FILL, stroke or _BOX_STROKE, stroke_width=3 if stroke else 1.2)
        self.text(x + width / 2, y + (height / 2 - 2 if detail else height / 2 + 4), name, bold=True, anchor="middle")
        if detail:
            self.text(x + width / 2, y + height / 2 + 14, detail, size=10, fill="#3c4043", anchor="middle")

    def zone(self, x: float, y: float, width: float, height: float, label: str) -> None:
        self.rect(x, y, width, height, "#fafafa", "#bdc1c6", dashed=True)
        self.text(x + 10, y + 16, label, size=10.5, fill="#5f6368")

    def arrow(self, x0: float, y0: float, x1: float, y1: float, colour: str, dashed: bool = False, width: float = 1.6) -> None:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        self.parts.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{colour}" stroke-width="{width}"'
                          f'{dash} marker-end="url(#head-{colour[1:]})"/>')

    def path(self, d: str, colour: str, dashed: bool = False, width: float = 1.6) -> None:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        self.parts.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width}"{dash} marker-end="url(#head-{colour[1:]})"/>')


def _mini_sequence(canvas: _Canvas, x: float, y: float, name: str, actors: list[str], arrows, note: str) -> None:
    """One panel of three_ways: a small sequence diagram in a 300 x 220 frame at (x, y)."""
    canvas.rect(x, y, 300, 220, "#fafafa", "#dadce0")
    canvas.text(x + 150, y + 18, name, bold=True, anchor="middle")
    xs = [x + 50 + 100 * k for k in range(len(actors))]
    for actor_x, actor in zip(xs, actors, strict=True):
        canvas.rect(actor_x - 42, y + 28, 84, 22, _BOX_FILL, _BOX_STROKE)
        canvas.text(actor_x, y + 43, actor, size=10.5, bold=True, anchor="middle")
        canvas.parts.append(f'<line x1="{actor_x}" y1="{y + 50}" x2="{actor_x}" y2="{y + 190}" stroke="#9aa0a6" stroke-dasharray="3 4"/>')
    for k, (start, end, label, kind) in enumerate(arrows):
        row_y = y + 72 + 30 * k
        colour = _BLUE if kind == "to" else _ORANGE
        canvas.arrow(xs[start], row_y, xs[end], row_y, colour, dashed=kind == "from")
        canvas.text((xs[start] + xs[end]) / 2, row_y - 5, label, size=10, anchor="middle")
    canvas.text(x + 150, y + 208, note, size=10.5, fill="#3c4043", anchor="middle")


def _rows(remotes) -> list[dict]:
    if hasattr(remotes, "to_dict"):
        remotes = remotes.to_dict("records")
    rows = []
    for remote in remotes or []:
        subscribes = remote.get("subscribes")
        rows.append({"id": remote.get("id"), "url": remote.get("url") or "",
                     "subscribes": sorted(subscribes) if isinstance(subscribes, (list, tuple, set)) else []})
    return rows


def _short(topic: str) -> str:
    return topic[len("magento."):] if topic.startswith("magento.") else topic


def _ellipsis(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
