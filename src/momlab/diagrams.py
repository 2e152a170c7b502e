"""Sequence diagrams of a flow, drawn as SVG, so they show in any notebook output (nbgrader's HTML
feedback included, where a mermaid block in markdown stays text), from a list of steps or straight
from the journal.

    steps = [("Commerce", "MOM", "sales.order_management.create"),
             ("MOM", "Commerce", "sales.order_management.updated (RECEIVED)")]
    diagrams.sequence(steps)                    # displays as a picture in a notebook

    rows = mom.journal(since=mark)
    steps = diagrams.journal_steps(rows, remotes={"mdc": "Commerce"}, senders={CREATE: "Commerce"})
    diagrams.side_by_side(diagrams.sequence(steps), rows[["method", "remote", "status"]])

Plain SVG text rather than a plotting library: it costs nothing to import, stays sharp at any size,
and its labels are real text.
"""

from __future__ import annotations

import html
import json
import numbers
from dataclasses import dataclass

MOM = "MOM"
NOBODY = "(no subscriber)"

_SPACING, _MARGIN, _TOP, _ROW, _NOTES = 215, 120, 56, 30, 250
_TO_MOM, _FROM_MOM, _GREY = "#1a5fb4", "#b45309", "#8a8a8a"
_HALO = 'fill="#202124" stroke="white" stroke-width="4" stroke-linejoin="round" paint-order="stroke"'  # readable over lines


@dataclass(frozen=True)
class Sequence:
    """A drawn sequence diagram: `svg` is its SVG text; notebooks display it as a picture."""

    svg: str
    steps: tuple

    def _repr_html_(self) -> str:
        return self.svg

    def __len__(self) -> int:
        return len(self.steps)


def sequence(steps, actors: list[str] | None = None, title: str | None = None) -> Sequence:
    """Draw `steps`, each (sender, receiver, label) or (sender, receiver, label, note), as a sequence
    diagram.

    Lifelines run left to right in the order of `actors`, then of first appearance. A message to MOM
    is a solid blue arrow (a request); one from MOM a dashed orange arrow (a delivery). Notes, when
    steps have them, are written in a column on the right, level with their arrow (journal_steps puts
    each row's journal id and status there)."""
    steps = tuple((*tuple(step)[:3], tuple(step)[3] if len(step) > 3 else None) for step in steps)
    order = list(actors or [])
    for sender, receiver, _, _ in steps:
        for actor in (sender, receiver):
            if actor not in order:
                order.append(actor)
    x = {actor: _MARGIN + _SPACING * i for i, actor in enumerate(order)}
    notes_x = 2 * _MARGIN + _SPACING * max(len(order) - 1, 0) - 30
    has_notes = any(step[3] for step in steps)
    width = notes_x + (_NOTES if has_notes else 30)
    head = 28 if title else 0
    bottom = head + _TOP + _ROW * len(steps) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{bottom + 8}" viewBox="0 0 {width} {bottom + 8}" '
        'font-family="DejaVu Sans, Arial, sans-serif" font-size="11" role="img">',
        "<defs>"
        + "".join(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            for name, color in (("to", _TO_MOM), ("from", _FROM_MOM), ("grey", _GREY))
        )
        + "</defs>",
        f'<rect width="{width}" height="{bottom + 8}" fill="white"/>',
    ]
    if title:
        parts.append(f'<text x="12" y="18" font-size="13" font-weight="bold">{html.escape(title)}</text>')
    for actor, ax in x.items():
        parts.append(f'<line x1="{ax}" y1="{head + 36}" x2="{ax}" y2="{bottom}" stroke="#9aa0a6" stroke-dasharray="3 4"/>')
        parts.append(f'<rect x="{ax - 80}" y="{head + 8}" width="160" height="28" rx="6" fill="#e8f0fe" stroke="#4a6fa5"/>')
        parts.append(f'<text x="{ax}" y="{head + 26}" text-anchor="middle" font-weight="bold">{html.escape(actor)}</text>')
    if has_notes:
        parts.append(f'<text x="{notes_x}" y="{head + 26}" font-weight="bold" fill="#5f6368">journal</text>')
    for n, (sender, receiver, label_text, note) in enumerate(steps, start=1):
        y = head + _TOP + _ROW * (n - 1) + 14
        if note:
            parts.append(f'<text x="{notes_x}" y="{y + 1}" font-family="DejaVu Sans Mono, monospace" font-size="10.5" '
                         f'fill="#5f6368">{html.escape(str(note))}</text>')
        x0, x1 = x[sender], x[receiver]
        kind = "grey" if receiver == NOBODY else ("from" if sender == MOM else "to")
        color = {"to": _TO_MOM, "from": _FROM_MOM, "grey": _GREY}[kind]
        dash = ' stroke-dasharray="6 4"' if sender == MOM else ""
        text = html.escape(f"{n}. {label_text}")
        if x0 == x1:
            parts.append(f'<path d="M{x0},{y - 6} h28 v12 h-28" fill="none" stroke="{color}"{dash} marker-end="url(#arrow-{kind})"/>')
            parts.append(f'<text x="{x0 + 34}" y="{y + 4}" {_HALO}>{text}</text>')
            continue
        parts.append(f'<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="{color}" stroke-width="1.4"{dash} marker-end="url(#arrow-{kind})"/>')
        parts.append(f'<text x="{(x0 + x1) / 2}" y="{y - 5}" text-anchor="middle" {_HALO}>{text}</text>')
    parts.append("</svg>")
    return Sequence("".join(parts), steps)


def journal_steps(rows, remotes: dict[str, str] | None = None, senders: dict[str, str] | None = None,
                  unsubscribed: bool = False) -> list[tuple[str, str, str, str]]:
    """Steps for `sequence` from journal rows (a DataFrame from mom.journal(), oldest first, indexed by id).

    An inbound row is drawn from `senders[method]` (default "sender") to MOM, a delivery from MOM to
    `remotes[remote]` (default the remote's id). Refused inbound rows are left out, and so are
    deliveries nobody subscribed to, unless `unsubscribed` is True. Labels drop "magento." and add the
    status an order, return or refund message carries; each step's note is its journal row: id,
    direction, status and, after a retry, the attempts."""
    remotes, senders = remotes or {}, senders or {}
    steps = []
    for row_id, row in rows.iterrows():
        text = label(row["method"], row["body"])
        attempts = row.get("attempts")
        note = f"#{row_id} {row['direction']:<3} {row['status']}" + (f" ({attempts} tries)" if isinstance(attempts, numbers.Number) and attempts > 1 else "")
        if row["direction"] == "in":
            if row["status"] == "rejected":
                continue
            steps.append((senders.get(row["method"], "sender"), MOM, text, note))
        elif not isinstance(row["remote"], str):  # None or NaN: nobody subscribed
            if unsubscribed:
                steps.append((MOM, NOBODY, text, note))
        else:
            steps.append((MOM, remotes.get(row["remote"], row["remote"]), text, note))
    return steps


def label(method: str, body=None) -> str:
    """'sales.order_management.updated (LOGISTICS)': the method without 'magento.', plus the status
    the message carries, when it carries one."""
    short = method[len("magento."):] if isinstance(method, str) and method.startswith("magento.") else str(method)
    status = _status(body)
    return f"{short} ({status})" if status else short


def _status(body) -> str | None:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    params = body.get("params") if isinstance(body, dict) else None
    if not isinstance(params, dict):
        return None
    for key in ("order", "return", "refund"):
        inner = params.get(key)
        if isinstance(inner, dict) and inner.get("status"):
            status = inner["status"]
            return status.get("code") if isinstance(status, dict) else str(status)
    return None


def side_by_side(diagram: Sequence, frame, caption: str | None = None):
    """The diagram on the left, a DataFrame (e.g. the journal) on the right, as one HTML output."""
    from IPython.display import HTML

    table = frame.to_html(max_rows=80, na_rep="")
    head = f"<p><b>{html.escape(caption)}</b></p>" if caption else ""
    return HTML(
        f'{head}<div style="display:flex;gap:1.5em;align-items:flex-start;flex-wrap:wrap">'
        f'<div style="flex:0 0 auto;overflow-x:auto">{diagram.svg}</div>'
        f'<div style="flex:1 1 26em;overflow-x:auto;font-size:85%">{table}</div></div>'
    )
