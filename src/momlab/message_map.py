"""The message map: every message the course's mock knows, as one table to revise from.

    from momlab import message_map
    message_map.table()                  # a pandas DataFrame, one row per message
    message_map.styled()                 # the same table, laid out for reading in a notebook
    message_map.for_objective("4.2")     # only the messages of one exam objective

The rows are built from the mock's message catalog (momlab.bus.catalog, one JSON file per message)
each time you call these, so the table always says what the mock knows. The columns:

- topic: the message's name, the JSON-RPC `method`;
- direction: "to MOM" (an integration sends it to MOM or to the bus) or "from MOM" (MOM delivers it
  to the remotes that subscribed);
- delivery: "sync" (the caller waits for the answer), "async" (acknowledged now, outcome later) or
  "broadcast" (an event delivered to every subscriber);
- kind: command, query or event;
- sender, receiver, and what it is for;
- confidence: how sure the sources are of the message's fields, as the catalog tags it ([doc],
  [code], [mock], [inferred], [unverified]). A message's role can be better documented than its
  fields: `lines_shipped`'s role is documented, its field list comes from code;
- objectives: the exam objectives it belongs to.
"""

from __future__ import annotations

import html
from typing import Any

from momlab.bus import catalog

COLUMNS = ("topic", "direction", "delivery", "kind", "sender", "receiver", "what it is for", "confidence", "objectives")
DIRECTIONS = {"to_mom": "to MOM", "from_mom": "from MOM"}


def row(message: catalog.Message) -> dict[str, str]:
    """One catalog message as a row of the map (see the module's help for the columns)."""
    return {
        "topic": message.method,
        "direction": DIRECTIONS[message.direction],
        "delivery": message.delivery,
        "kind": message.kind,
        "sender": message.sender,
        "receiver": message.receiver,
        "what it is for": message.summary,
        "confidence": f"[{message.confidence}]",
        "objectives": ", ".join(sorted(message.objectives, key=_objective_order)),
    }


def table(messages: list[catalog.Message] | None = None) -> Any:
    """Every message of the mock's catalog (or of `messages`) as a pandas DataFrame, one row each,
    sorted by topic, with the columns of COLUMNS."""
    import pandas as pd

    chosen = catalog.all() if messages is None else sorted(messages, key=lambda m: m.method)
    return pd.DataFrame([row(m) for m in chosen], columns=list(COLUMNS))


def for_objective(objective: str) -> Any:
    """The rows of the map for one exam objective, e.g. "4.2" (an empty table for an id no message has)."""
    frame = table()
    return frame[frame["objectives"].str.split(", ").apply(lambda ids: objective in ids)].reset_index(drop=True)


def styled(frame: Any = None) -> Any:
    """The map (or `frame`, a table() or for_objective() result) styled for reading: no index,
    text aligned left and top, long text wrapped. A notebook shows it as an HTML table."""
    frame = table() if frame is None else frame
    return (frame.style.hide(axis="index")
            .format(escape="html")
            .format(_breakable, subset=["topic"])
            .set_properties(**{"text-align": "left", "vertical-align": "top", "white-space": "normal"})
            .set_properties(subset=["topic"], **{"font-family": "monospace", "font-size": "0.9em", "min-width": "14em"})
            .set_properties(subset=["what it is for"], **{"min-width": "22em"})
            .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}]))


def _breakable(topic: str) -> str:
    """A topic as HTML that may wrap after each dot (the text itself, copied, stays the same)."""
    return html.escape(topic).replace(".", ".<wbr>")


def _objective_order(objective: str) -> tuple[int, ...]:
    return tuple(int(part) for part in objective.split("."))
