"""ipywidgets views of the mock for notebooks: a journal viewer, a message builder and a stock explorer.

    from momlab import widgets
    widgets.journal_viewer(mom)
    widgets.message_builder(mom)
    widgets.stock_explorer(mom)

Each returns a widget to display. The logic they use (flattening a message into form fields,
previewing a stock snapshot) is plain Python in this module, so it is tested without a browser.
"""

from __future__ import annotations

import copy
import html
import json
import re
from typing import Any

from momlab.bus import catalog
from momlab.client import MomError

STATUS_COLOURS = {"rejected": "#b00020", "failed": "#b00020", "retrying": "#8a5a00", "pending": "#8a5a00", "delivered": "#1b6e20", "ok": "#1b6e20"}
# Tables in the widgets: compact, and scrolled inside a box rather than pushing the page down. The
# scrollbar is styled so that it is drawn even where the browser's own is an overlay shown only while
# scrolling; the row count beside the title says it too, for browsers that ignore the style.
TABLE_STYLE = (
    "<style>.momlab-table table{border-collapse:collapse}"
    ".momlab-table th,.momlab-table td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
    ".momlab-table{max-height:20em;overflow-y:auto;border:1px solid #ddd;width:fit-content;max-width:100%}"
    ".momlab-table::-webkit-scrollbar{width:10px}"
    ".momlab-table::-webkit-scrollbar-thumb{background:#999;border-radius:5px}"
    ".momlab-table::-webkit-scrollbar-track{background:#eee}</style>"
)
# The journal viewer's list in a fixed-width font, so its columns line up.
LIST_STYLE = "<style>.momlab-journal-viewer select{font-family:var(--jp-code-font-family,monospace)}</style>"
# An empty result from an asynchronous message, said in words.
ASYNC_ACKNOWLEDGEMENT = ("<p>The empty <code>{}</code> is an asynchronous acknowledgement: the bus accepted the message, "
                         "nothing more. Its effects come later, as messages in the journal (the journal viewer or "
                         "the journal page shows them).</p>")


def missing(value: Any) -> bool:
    """True for an empty journal cell: None, or the NaN pandas puts in a text column."""
    return value is None or (isinstance(value, float) and value != value)


def number(value: Any) -> str:
    """A quantity as a person writes it: 40 rather than 40.0, 2.5 as it is, and "" when missing."""
    if missing(value):
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# Rows a table widget draws at most: a warehouse's tens of thousands are too many to draw again on
# each keystroke of a filter, and nobody reads past a few screens; the filters narrow the rest.
TABLE_ROWS = 200
# Rows the scroll box shows at once, about: a longer table says that it scrolls.
SCROLL_AFTER = 10


def table(frame, title: str, limit: int = TABLE_ROWS) -> str:
    """A DataFrame as a small titled table that scrolls when it is long, its row count beside the title;
    whole numbers without ".0", an empty cell as a dash; past `limit` rows, the first ones and a line
    saying how many there are."""
    count = f"{len(frame):,} row{'' if len(frame) == 1 else 's'}" + ("; scroll to see them all" if len(frame) > SCROLL_AFTER else "")
    more = "" if len(frame) <= limit else f"<div><i>the first {limit:,} of {len(frame):,} rows: filter to see the others</i></div>"
    return (f"<div><b>{html.escape(title)}</b> <span class='momlab-count'>({count})</span><div class='momlab-table'>"
            f"{frame.head(limit).to_html(index=False, border=0, float_format=number, na_rep='—')}</div>{more}</div>")


# -- error box ------------------------------------------------------------------------------------
def error_box(error: MomError | dict) -> str:
    """HTML for a bus error: what failed, where, and what to fix, instead of a raw dict."""
    if isinstance(error, MomError):
        return error._repr_html_()
    data = error.get("data") or {}
    return MomError(error.get("code"), error.get("message", ""), data)._repr_html_()


# -- journal viewer --------------------------------------------------------------------------------
def journal_viewer(mom, limit: int = 200):
    """Filter the journal by topic, direction and status; open a message and the bus's answer;
    retry a failed delivery."""
    import ipywidgets as w

    topic = w.Text(description="topic", placeholder="part of a method name")
    direction = w.Dropdown(description="direction", options=["any", "in", "out"])
    status = w.Dropdown(description="status", options=["any", "ok", "rejected", "pending", "retrying", "delivered", "failed", "no_subscriber"])
    refresh = w.Button(description="Refresh", icon="refresh")
    rows = w.Select(description="messages", rows=10, layout=w.Layout(width="100%"))
    detail = w.HTML()
    retry = w.Button(description="Retry delivery", button_style="warning", disabled=True,
                     tooltip="Sends a failed delivery to its remote again; open a failed one to use it.")
    note = w.HTML()

    def say(text: str) -> None:
        note.value = LIST_STYLE + text

    def load(*_, keep_note: bool = False):
        frame = mom.journal()
        if topic.value.strip():
            frame = frame[frame["method"].fillna("").str.contains(topic.value.strip(), regex=False)]
        if direction.value != "any":
            frame = frame[frame["direction"] == direction.value]
        if status.value != "any":
            frame = frame[frame["status"] == status.value]
        frame = frame.tail(limit).iloc[::-1]  # newest first, where the list opens
        width = len(str(frame.index.max())) + 2 if len(frame) else 0  # the widest "#id", so the columns after it line up
        rows.options = [(list_label(int(i), r, width), int(i)) for i, r in frame.iterrows()]
        if not keep_note:
            say(f"{len(frame)} message(s), newest first")

    def show(*_, journal_id: int | None = None):
        journal_id = rows.value if journal_id is None else journal_id
        if journal_id is None:
            detail.value, retry.disabled = "", True
            return
        row = mom.journal().loc[journal_id]
        retry.disabled = not retryable(row)
        parts = [f"<b>#{journal_id}</b> {html.escape(method_name(row['method']))} · <span style='color:{STATUS_COLOURS.get(row['status'], '#333')}'>{html.escape(row['status'])}</span>"]
        if not missing(row["remote"]):
            parts.append(f" to <code>{html.escape(str(row['remote']))}</code>, attempt(s): {row['attempts']}")
        if not missing(row["error"]):
            parts.append(f"<div style='color:#b00020'>{html.escape(str(row['error']))}</div>")
        for name in ("body", "response"):
            text = html.escape(json.dumps(row[name], indent=2, default=str))
            parts.append(f"<details {'open' if name == 'body' else ''}><summary>{name}</summary><pre style='max-height:24em;overflow:auto'>{text}</pre></details>")
        detail.value = "".join(parts)

    def resend(*_):
        journal_id = int(rows.value)
        try:
            mom.client.retry(journal_id)
            mom.wait_idle()
            say(f"delivery #{journal_id} sent again: {html.escape(str(mom.journal().loc[journal_id, 'status']))}")
        except ValueError as exc:
            say(f"<span style='color:#b00020'>{html.escape(str(exc))}</span>")
        load(keep_note=True)  # the list shows the new status (or drops the row, if it no longer matches the filters)
        show(journal_id=journal_id)

    for control in (topic, direction, status):
        control.observe(load, names="value")
    refresh.on_click(load)
    rows.observe(show, names="value")
    retry.on_click(resend)
    load()
    box = w.VBox([w.HBox([topic, direction, status, refresh]), note, rows, w.HBox([retry]), detail])
    box.add_class("momlab-journal-viewer")
    return box


def list_label(journal_id: int, row, width: int) -> str:
    """One journal row as a line of the viewer's list, padded into columns (no-break spaces, since a
    list collapses ordinary ones)."""
    method = method_name(row.method)
    remote = "" if missing(row.remote) else f" -> {row.remote}"
    columns = f"{'#' + str(journal_id):<{width}}{row.direction:<4}{row.status:<14}"
    return columns.replace(" ", "\u00a0") + method + remote


def method_name(method: Any) -> str:
    """A journal row's method, or "(unreadable)" for a body the bus could not parse."""
    return "(unreadable)" if missing(method) else str(method)


def retryable(row) -> bool:
    """A delivery to a remote that failed: the one kind of message Retry is for."""
    return row["direction"] == "out" and row["status"] == "failed" and not missing(row["remote"])


# -- message builder -------------------------------------------------------------------------------
def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """{json path: scalar} for every leaf of a message, e.g. {'order.lines[0].sku': 'TEE-ORG-S'}."""
    if isinstance(value, dict) and value:
        out = {}
        for key, inner in value.items():
            out.update(flatten(inner, f"{path}.{key}" if path else key))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, inner in enumerate(value):
            out.update(flatten(inner, f"{path}[{index}]"))
        return out
    return {path: value}


def unflatten(fields: dict[str, Any], template: Any) -> Any:
    """The message `template` with each leaf replaced by the value of its path in `fields`."""
    result = copy.deepcopy(template)
    for path, value in fields.items():
        keys = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+", path)]
        target = result
        for key in keys[:-1]:
            target = target[key]
        if keys:
            target[keys[-1]] = value
    return result


def parse_field(text: str, original: Any) -> Any:
    """A form field's text as the type the example had (number, boolean, null), else as text."""
    if isinstance(original, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


# A form longer than this is shown in collapsible groups, one per object of the message.
GROUP_ABOVE = 12


def field_groups(paths: list[str]) -> dict[str, list[str]]:
    """The form's fields grouped by the object that holds them, two levels deep at most:
    'order.id' in 'order', 'order.lines[0].amount.tax_rate' in 'order.lines[0]'. Groups keep the
    message's order."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        parent = re.findall(r"[^.]+", path)[:-1]
        groups.setdefault(".".join(parent[:2]) or "(top level)", []).append(path)
    return groups


def message_builder(mom):
    """Pick a message from the catalog, fill a form generated from its example and schema, see
    validation problems as you type, send it, and see the answer."""
    import ipywidgets as w

    method = w.Dropdown(description="message", options=catalog.names(), layout=w.Layout(width="100%"))
    route = w.Dropdown(description="route", options=["api", "remote", "delegate", "events"])
    form = w.VBox()
    problems = w.HTML()
    send = w.Button(description="Send", button_style="primary", icon="paper-plane")
    answer = w.HTML()
    state: dict[str, Any] = {}

    def current_params() -> dict:
        values = {path: parse_field(box.value, state["leaves"][path]) for path, box in state["boxes"].items()}
        return unflatten(values, state["example"])

    def check(*_):
        found = catalog.validate(method.value, current_params())
        if found:
            items = "".join(f"<li><code>{html.escape(p.path)}</code> {html.escape(p.message)}</li>" for p in found)
            problems.value = f"<div style='color:#b00020'>Not valid yet:<ul>{items}</ul></div>"
        else:
            problems.value = "<div style='color:#1b6e20'>Valid: ready to send.</div>"
        send.disabled = bool(found)

    def build(*_):
        message = catalog.get(method.value)
        state["example"] = catalog.example(method.value)
        state["leaves"] = flatten(state["example"])
        state["boxes"] = {}
        for path, value in state["leaves"].items():
            box = w.Text(value=value if isinstance(value, str) else json.dumps(value), description=path, style={"description_width": "initial"}, layout=w.Layout(width="95%"))
            box.observe(check, names="value")
            state["boxes"][path] = box
        summary = w.HTML(f"<i>{html.escape(message.summary)}</i> ({message.kind}, {message.delivery}, {message.direction})")
        form.children = [summary, *grouped(state["boxes"])]
        route.value = "delegate" if message.direction == "to_mom" and message.delivery == "async" else "api"
        answer.value = ""
        check()

    def grouped(boxes: dict[str, Any]) -> list:
        """The fields as they are, or for a long form one collapsible group per object, the first open."""
        if len(boxes) <= GROUP_ABOVE:
            return list(boxes.values())
        sections = []
        for index, (name, paths) in enumerate(field_groups(list(boxes)).items()):
            section = w.Accordion(children=[w.VBox([boxes[path] for path in paths])], selected_index=0 if index == 0 else None)
            section.set_title(0, f"{name} ({len(paths)} field{'' if len(paths) == 1 else 's'})")
            sections.append(section)
        return sections

    def submit(*_):
        try:
            service = "oms"
            result = mom.client.call(method.value, current_params(), route=route.value, service=service)
            acknowledged = result == {} and catalog.get(method.value).delivery == "async"
            answer.value = f"<b>result</b><pre>{html.escape(json.dumps(result, indent=2))}</pre>" + (ASYNC_ACKNOWLEDGEMENT if acknowledged else "")
        except MomError as error:
            answer.value = error_box(error)

    method.observe(build, names="value")
    send.on_click(submit)
    build()
    box = w.VBox([method, route, form, problems, send, answer])
    box.add_class("momlab-message-builder")
    return box


# -- stock explorer --------------------------------------------------------------------------------
def preview_snapshot(current: dict[str, float], snapshot: dict[str, float], mode: str, unlimited: set[str] = frozenset()) -> list[dict]:
    """What a source stock snapshot would change, before sending it (mom-reference.md 5.1):
    listed SKUs take their new quantity; omitted SKUs keep theirs (DELTA), keep theirs with a warning
    (FULL) or drop to zero unless unlimited (NONZERO)."""
    if mode not in ("DELTA", "FULL", "NONZERO"):
        raise ValueError("mode must be DELTA, FULL or NONZERO")
    rows = []
    for sku in sorted(set(current) | set(snapshot)):
        before = current.get(sku)
        if sku in snapshot:
            after, effect = snapshot[sku], "set"
        elif mode == "NONZERO" and sku not in unlimited:
            after, effect = 0.0, "zeroed (not listed)"
        elif mode == "FULL":
            after, effect = before, "kept, with a warning (not listed)"
        else:
            after, effect = before, "unchanged"
        rows.append({"sku": sku, "before": before, "after": after, "effect": effect, "changes": before != after})
    return rows


def preview_table(rows: list[dict], mode: str) -> str:
    """The preview rows as a table: quantities as people write them, and "new" before a SKU the source
    does not hold yet."""
    import pandas as pd

    shown = [{"sku": r["sku"], "before": "new" if r["before"] is None else number(r["before"]), "after": number(r["after"]),
              "effect": r["effect"]} for r in rows]
    return TABLE_STYLE + table(pd.DataFrame(shown, columns=["sku", "before", "after", "effect"]), f"if sent as {mode}:")


def stock_tables(mom, source: str, sku_part: str = "") -> str:
    """A source's stock on hand beside every aggregate's available to sell, for the SKUs containing
    `sku_part`."""
    import pandas as pd

    stock = mom.state("source_stock", source_id=source)
    aggregate = mom.state("aggregate_stock")
    if sku_part:
        stock = stock[stock["sku"].str.contains(sku_part, regex=False)] if not stock.empty else stock
        aggregate = aggregate[aggregate["sku"].str.contains(sku_part, regex=False)] if not aggregate.empty else aggregate
    pivot = aggregate.pivot(index="sku", columns="aggregate_id", values="available").reset_index().rename_axis(columns=None) if not aggregate.empty else pd.DataFrame()
    return (f"{TABLE_STYLE}<div style='display:flex;gap:2em'>{table(stock, f'{source} on hand')}"
            f"{table(pivot, 'available to sell per aggregate')}</div>")


def stock_explorer(mom, source: str | None = None):
    """Source and aggregate stock per SKU, and a preview of what a DELTA / FULL / NONZERO snapshot
    would change before it is sent. `source` is the one shown first (a lab passes its own, e.g.
    `stock_explorer(mom, source=SOURCE)`); without it, the first source the mock lists."""
    import ipywidgets as w

    sources = [row["id"] for _, row in mom.state("sources").iterrows()]
    if source is not None and source not in sources:
        raise ValueError(f"No source {source!r} in the mock. Sources: {', '.join(sources)}.")
    source_box = w.Dropdown(description="source", options=sources, value=source or (sources[0] if sources else None))
    sku_filter = w.Text(description="SKU", placeholder="part of a SKU")
    tables = w.HTML()
    mode = w.ToggleButtons(description="mode", options=["DELTA", "FULL", "NONZERO"])
    lines = w.Textarea(description="snapshot", placeholder="one 'SKU,quantity' per line", layout=w.Layout(width="60%", height="8em"))
    preview = w.HTML()
    send = w.Button(description="Send snapshot", button_style="primary")
    answer = w.HTML()

    def current_stock() -> tuple[dict[str, float], set[str]]:
        frame = mom.state("source_stock", source_id=source_box.value)
        if frame.empty:
            return {}, set()
        return dict(zip(frame["sku"], frame["quantity"], strict=True)), set(frame.loc[frame["unlimited"], "sku"])

    def parsed() -> dict[str, float]:
        out = {}
        for number, line in enumerate(lines.value.splitlines(), start=1):
            if not line.strip():
                continue
            sku, _, quantity = line.partition(",")
            try:
                out[sku.strip()] = float(quantity)
            except ValueError:
                raise ValueError(f"line {number}: write 'SKU,quantity', e.g. TEE-ORG-S,12") from None
        return out

    def show(*_):
        tables.value = stock_tables(mom, source_box.value, sku_filter.value.strip())
        update_preview()

    def update_preview(*_):
        try:
            snapshot = parsed()
        except ValueError as exc:
            preview.value, send.disabled = f"<span style='color:#b00020'>{html.escape(str(exc))}</span>", True
            return
        send.disabled = not snapshot
        if not snapshot:
            preview.value = "<i>Type one 'SKU,quantity' per line to see what each mode would change.</i>"
            return
        current, unlimited = current_stock()
        rows = [r for r in preview_snapshot(current, snapshot, mode.value, unlimited) if r["changes"] or r["sku"] in snapshot or "warning" in r["effect"]]
        rows.sort(key=lambda r: r["sku"] not in snapshot)  # the SKUs typed in first, above any cut
        preview.value = preview_table(rows, mode.value)

    def submit(*_):
        stock = [{"sku": sku, "quantity": quantity} for sku, quantity in parsed().items()]
        try:
            result = mom.client.call("magento.inventory.source_stock_management.update", {"snapshot": {"source_id": source_box.value, "mode": mode.value, "stock": stock}})
            answer.value = f"<pre>{html.escape(json.dumps(result, indent=2))}</pre>"
        except MomError as error:
            answer.value = error_box(error)
        mom.wait_idle()
        show()

    for control in (source_box, sku_filter):
        control.observe(show, names="value")
    for control in (mode, lines):
        control.observe(update_preview, names="value")
    send.on_click(submit)
    show()
    box = w.VBox([w.HBox([source_box, sku_filter]), tables, mode, lines, preview, send, answer])
    box.add_class("momlab-stock-explorer")
    return box
