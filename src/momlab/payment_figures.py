"""Helpers for notebooks 04c and 04d: a warehouse that ships an order's lines, and sequence diagrams
of exchanges that have an answer (a payment command with its empty acknowledgement and the
notification that follows; the carrier's synchronous answer), drawn from the mock's journal.

    ship = payment_figures.warehouse(mom)       # ship("L4D-2") acknowledges and ships every line
    payment_figures.exchange(mom.journal(order_id="L4D-1"),
                             remotes={"acmepay": "payment integration"},
                             callers={"magento.sales.order_management.create": "sales channel"})

`momlab.diagrams.journal_steps` draws each journal row as one arrow. Here an answer gets its own
arrow as well, because the answer is the point: `{}` for an asynchronous command, the shipping
details for the carrier's synchronous call, or the error the caller got when nobody answered in time.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable
from typing import Any

from momlab import diagrams
from momlab.topics import CHANGE_STATUS, LINES_SHIPPED

_BRIEF = 40  # characters of an answer shown on its arrow
_NOTE = 40   # characters of a journal note


def warehouse(mom) -> Callable[..., None]:
    """A function `ship(order_id, line_ids=None)` that plays the warehouse on the mock `mom`.

    For each shipment request of the order it acknowledges the lines (shipment_request_management.
    lines_change_status, RECEIVEDBYLOGISTICS) and ships them (warehouse_management.lines_shipped):
    every line, or only those whose order line id is in `line_ids`. Then it waits until the mock has
    sent everything that follows (order updates, captures...)."""

    def ship(order_id: str, line_ids=None) -> None:
        """Acknowledge and ship the lines of `order_id` (all, or those in line_ids), as a warehouse would."""
        wanted = None if line_ids is None else {str(line_id) for line_id in line_ids}
        requests = mom.state("shipment_requests")
        for request in requests.loc[requests["order_id"] == order_id, "body"]:
            items = [i for i in request["items"] if wanted is None or str(i["order_line_id"]) in wanted]
            if not items:
                continue
            mom.client.call(CHANGE_STATUS, {"shipment_request_id": request["request_id"], "items": [
                {"order_line_id": i["order_line_id"], "status": "RECEIVEDBYLOGISTICS"} for i in items]})
            mom.client.call(LINES_SHIPPED, {"request_id": request["request_id"],
                                            "items": [{"order_line_id": i["order_line_id"]} for i in items]})
        mom.wait_idle()

    return ship


def exchange(rows, remotes: dict[str, str] | None = None, callers: dict[str, str] | None = None,
             answer_callers: bool = False, order_id: str | None = None, title: str | None = None) -> diagrams.Sequence:
    """A sequence diagram of journal rows (a DataFrame from mom.journal(), oldest first) with the answers.

    `remotes` names the receivers (remote id -> name on the picture), `callers` the senders of inbound
    messages (method -> name). With `order_id`, only that order's rows are drawn, with the inbound
    calls that caused them. With `answer_callers`, the answer MOM gave each inbound call is drawn too
    (right for synchronous calls, where the caller waits for it). See exchange_steps."""
    if order_id is not None:
        own = rows[rows["order_id"] == order_id]
        causes = {int(c) for c in own["caused_by"] if _is_number(c)}
        rows = rows[(rows["order_id"] == order_id) | rows.index.isin(causes)]
    return diagrams.sequence(exchange_steps(rows, remotes, callers, answer_callers), title=title)


def exchange_steps(rows, remotes: dict[str, str] | None = None, callers: dict[str, str] | None = None,
                   answer_callers: bool = False) -> list[tuple[str, str, str, str | None]]:
    """Steps for momlab.diagrams.sequence: (sender, receiver, label, note).

    - An inbound row is an arrow from `callers[method]` (default "sender") to MOM; refused ones are
      left out. With `answer_callers`, MOM's answer to it (its result, or the error) follows the last
      delivery it caused.
    - A delivery is an arrow from MOM to `remotes[remote]` (default the remote's id), followed by the
      remote's answer ("answer: {}" for an acknowledgement). A delivery nobody answered has no answer
      arrow; its note says why it failed. Deliveries nobody subscribed to are left out.
    Notes are the journal rows: id, direction, the route an inbound message came by (api, delegate/oms,
    remote/<id>) and status."""
    remotes, callers = remotes or {}, callers or {}
    last_caused: dict[int, int] = {}
    for position, cause in enumerate(rows["caused_by"]):
        if _is_number(cause):
            last_caused[int(cause)] = position
    steps: list[tuple[str, str, str, str | None]] = []
    later: dict[int, list[tuple[str, str, str, str | None]]] = {}
    for position, (row_id, row) in enumerate(rows.iterrows()):
        text = diagrams.label(row["method"], row["body"])
        note = _note(row_id, row)
        if row["direction"] == "in":
            if row["status"] != "rejected":
                caller = callers.get(row["method"], "sender")
                steps.append((caller, diagrams.MOM, text, note))
                if answer_callers:
                    later.setdefault(last_caused.get(int(row_id), position), []).append((diagrams.MOM, caller, _caller_answer(row), None))
        elif isinstance(row["remote"], str):
            name = remotes.get(row["remote"], row["remote"])
            steps.append((diagrams.MOM, name, text, note))
            reply = _remote_answer(row["response"])
            if reply is not None:
                steps.append((name, diagrams.MOM, reply, None))
        steps.extend(later.pop(position, []))
    return steps


def brief(value: Any, limit: int = _BRIEF) -> str:
    """`value` as compact JSON, cut to `limit` characters (with "…" when cut)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _remote_answer(envelope: Any) -> str | None:
    if not isinstance(envelope, dict):
        return None  # no answer came back (a time-out, a refused connection)
    if "error" in envelope:
        error = envelope["error"]
        return "error: " + brief(error.get("message") if isinstance(error, dict) else error)
    if "result" in envelope:
        return "answer: " + brief(envelope["result"])
    return None


def _caller_answer(row) -> str:
    error = row.get("error")
    if isinstance(error, str) and error:
        return "error: " + brief(error)
    return "answer: " + brief(row.get("response"))


def _note(row_id, row) -> str:
    route = row.get("route")
    via = f" {route}" if row["direction"] == "in" and isinstance(route, str) and route else ""
    note = f"#{row_id} {row['direction']:<3}{via} {row['status']}"
    error = row.get("error")
    if row["direction"] == "out" and isinstance(error, str) and error:
        note += f": {error}"
    return brief(note, _NOTE)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool) and value == value  # NaN is not
