"""The Message Log (MCOM > Message Log): the connector's record of every message in and out.

The connector keeps its messages in the table `mcom_api_messages` and works through them with
`bin/magento oms:messages:process` [doc: kb-getmode]. Each message records success or failure, the
reason and the retry count [doc: connector feature list]; the admin page filters by topic and
direction, shows the body, the history and the full error trace, and retries by mass action; a
processed message shows SUCCESS [doc: merchdocs message-log].

Statuses: SUCCESS is the documented one. NEW (stored, waiting for the processor) and ERROR (failed;
retried, or waiting for a Retry) are momlab's names for the other two states [mock].
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from momlab.bus.timestamps import iso_millis
from momlab.connector.store import ConnectorStore

NEW, SUCCESS, ERROR = "NEW", "SUCCESS", "ERROR"
STATUSES = (NEW, SUCCESS, ERROR)
INCOMING, OUTGOING = "incoming", "outgoing"
COLUMNS = ["id", "direction", "topic", "status", "error", "retries", "reference", "batch", "created_at", "updated_at", "body"]


class MessageLog:
    def __init__(self, store: ConnectorStore, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock

    # -- writing --------------------------------------------------------------------------------
    def add(self, db, direction: str, topic: str, params: dict, *, delivery_id: str | None = None, reference: str | None = None,
            export_id: int | None = None, batch: int | None = None, note: str = "received") -> int | None:
        """Store a message as NEW; for a delivery already stored (same bus id) return None."""
        now = self.clock()
        if delivery_id is not None:
            row = db.execute("SELECT id FROM mcom_api_messages WHERE delivery_id = ?", (delivery_id,)).fetchone()
            if row is not None:
                self._history(db, row["id"], None, "the bus delivered this message again (same delivery id): not stored twice", now)
                return None
        cursor = db.execute(
            "INSERT INTO mcom_api_messages (direction, topic, body, status, delivery_id, reference, export_id, batch, created_at, updated_at)"
            " VALUES (?, ?, ?, 'NEW', ?, ?, ?, ?, ?, ?)",
            (direction, topic, json.dumps(params), delivery_id, reference, export_id, batch, now, now),
        )
        self._history(db, cursor.lastrowid, NEW, note, now)
        return cursor.lastrowid

    def set_status(self, db, message_id: int, status: str, *, error: str | None = None, trace: str | None = None,
                   answer: Any = None, note: str | None = None, auto_retry: bool = False) -> None:
        now = self.clock()
        db.execute(
            "UPDATE mcom_api_messages SET status = ?, error = ?, trace = ?, answer = COALESCE(?, answer), auto_retry = ?, updated_at = ? "
            "WHERE id = ?",
            (status, error, trace, None if answer is None else json.dumps(answer), int(auto_retry), now, message_id),
        )
        self._history(db, message_id, status, note or error or status.lower(), now)

    def requeue(self, ids: Iterable[int], note: str = "Retry (mass action)") -> list[int]:
        """Put messages back in the queue (NEW) and count a retry: the admin's mass action Retry."""
        done = []
        with self.store.transaction() as db:
            for message_id in ids:
                message_id = int(message_id)
                row = db.execute("SELECT status FROM mcom_api_messages WHERE id = ?", (message_id,)).fetchone()
                if row is None:
                    raise LookupError(f"The Message Log has no message {message_id}.")
                db.execute("UPDATE mcom_api_messages SET status = 'NEW', retries = retries + 1, updated_at = ? WHERE id = ?",
                           (self.clock(), message_id))
                self._history(db, message_id, NEW, note, self.clock())
                done.append(message_id)
        return done

    def _history(self, db, message_id: int, status: str | None, note: str, now: float) -> None:
        db.execute("INSERT INTO mcom_api_message_history VALUES (?, ?, ?, ?)", (message_id, now, status or "-", note))

    # -- reading --------------------------------------------------------------------------------
    def rows(self, topic: str | None = None, direction: str | None = None, status: str | None = None,
             reference: str | None = None, export_id: int | None = None, limit: int | None = None) -> list[dict]:
        """Messages, oldest first, filtered by exact values (the admin grid's filters)."""
        if direction is not None and direction not in (INCOMING, OUTGOING):
            raise ValueError(f"direction is '{INCOMING}' or '{OUTGOING}', not {direction!r}.")
        if status is not None and status not in STATUSES:
            raise ValueError(f"status is one of {', '.join(STATUSES)}, not {status!r}.")
        where, args = [], []
        for column, value in (("topic", topic), ("direction", direction), ("status", status), ("reference", reference), ("export_id", export_id)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = "SELECT * FROM mcom_api_messages" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        if limit is not None:
            sql = f"SELECT * FROM ({sql.replace(' ORDER BY id', ' ORDER BY id DESC')} LIMIT {int(limit)}) ORDER BY id"
        return [_row(r) for r in self.store.query(sql, tuple(args))]

    def get(self, message_id: int) -> dict:
        rows = self.store.query("SELECT * FROM mcom_api_messages WHERE id = ?", (int(message_id),))
        if not rows:
            raise LookupError(f"The Message Log has no message {message_id}.")
        return {**_row(rows[0]), "trace": rows[0]["trace"], "history": self.history(message_id)}

    def history(self, message_id: int) -> list[dict]:
        rows = self.store.query("SELECT at, status, note FROM mcom_api_message_history WHERE message_id = ? ORDER BY rowid", (int(message_id),))
        return [{"at": iso_millis(r["at"]), "status": r["status"], "note": r["note"]} for r in rows]

    def counts(self, **filters) -> dict[str, int]:
        """How many messages per status, e.g. {'NEW': 3, 'SUCCESS': 10, 'ERROR': 1}."""
        out = {status: 0 for status in STATUSES}
        for row in self.rows(**filters):
            out[row["status"]] += 1
        return out


def _row(r) -> dict:
    return {
        "id": r["id"],
        "direction": r["direction"],
        "topic": r["topic"],
        "status": r["status"],
        "error": r["error"],
        "retries": r["retries"],
        "reference": r["reference"],
        "batch": r["batch"],
        "created_at": iso_millis(r["created_at"]),
        "updated_at": iso_millis(r["updated_at"]),
        "body": json.loads(r["body"]),
    }


