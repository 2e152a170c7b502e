"""The journal: every message in and out of the bus, and the outbox of deliveries to remotes.

This is the only module that reads or writes the `journal` table. An inbound row (direction 'in') is
a request the bus took ('ok') or refused ('rejected'; 'failed' when the remote it called did not
answer). An outbound row (direction 'out') is one delivery to one remote: 'pending' until its first
attempt, 'retrying' between attempts, 'sending' during a synchronous call, then 'delivered' or
'failed'; 'no_subscriber' when nobody subscribed to the message.

Writers take the open transaction (`db`); readers of whole views take the Store.
"""

from __future__ import annotations

import json
import numbers
import re
import sqlite3
import time
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from momlab.bus import jsonrpc, jsontext
from momlab.bus.jsonrpc import Doc
from momlab.bus.store import Store
from momlab.bus.timestamps import iso_millis

STORED_BODY_LIMIT = 64 * 1024
FILTERS = ("method", "direction", "status", "remote", "order_id", "route", "caused_by")


class Status(StrEnum):
    """A journal row's status, stored as its text."""

    OK = "ok"
    REJECTED = "rejected"
    PENDING = "pending"
    RETRYING = "retrying"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    NO_SUBSCRIBER = "no_subscriber"


WAITING = (Status.PENDING, Status.RETRYING)  # deliveries the deliverer still owes
_WAITING_SQL = f"status IN ({', '.join(repr(str(s)) for s in WAITING)})"  # a literal, so the outbox index applies


# -- inbound ------------------------------------------------------------------------------------------


def record_in(db: sqlite3.Connection, route: str, method: str | None, request_id: str | None, body: str,
              remote: str | None = None, order_id: str | None = None, at: float | None = None) -> int:
    """Journal a request the bus accepted; returns its row id."""
    cursor = db.execute(
        "INSERT INTO journal (at, direction, route, method, request_id, body, status, remote, order_id)"
        " VALUES (?, 'in', ?, ?, ?, ?, ?, ?, ?)",
        (time.time() if at is None else at, route, method, request_id, body, Status.OK, remote, order_id),
    )
    return _inserted(cursor)


def reject(db: sqlite3.Connection, route: str, method: str | None, body: str, error: jsonrpc.RpcError) -> int:
    """Journal a refused request with the error it got; returns its row id."""
    cursor = db.execute(
        "INSERT INTO journal (at, direction, route, method, request_id, body, status, error_code, error, response)"
        " VALUES (?, 'in', ?, ?, ?, ?, ?, ?, ?, ?)",
        (time.time(), route, method, json.dumps(error.request_id), body, Status.REJECTED, error.code, error.message,
         json.dumps(error.to_object())),
    )
    return _inserted(cursor)


def _inserted(cursor: sqlite3.Cursor) -> int:
    """The row id of an INSERT just run (never None after one)."""
    if cursor.lastrowid is None:
        raise RuntimeError("the INSERT into the journal left no row id")
    return cursor.lastrowid


def answer(db: sqlite3.Connection, row_id: int, response: str, order_id: str | None = None) -> None:
    """Store the answer to an inbound request (and the order it turned out to concern)."""
    if order_id is None:
        db.execute("UPDATE journal SET response = ? WHERE id = ?", (response, row_id))
    else:
        db.execute("UPDATE journal SET response = ?, order_id = ? WHERE id = ?", (response, order_id, row_id))


def fail_in(db: sqlite3.Connection, row_id: int, code: int, error: str | None) -> None:
    """An accepted request that could not be carried out (the remote it called failed, say)."""
    db.execute("UPDATE journal SET status = ?, error_code = ?, error = ? WHERE id = ?", (Status.FAILED, code, error, row_id))


def method_of(db: sqlite3.Connection, row_id: int) -> str | None:
    method: str | None = db.execute("SELECT method FROM journal WHERE id = ?", (row_id,)).fetchone()[0]
    return method


def stored(body: bytes) -> str:
    """A request body as the journal keeps it: text, cut at STORED_BODY_LIMIT."""
    if len(body) > STORED_BODY_LIMIT:
        return body[:STORED_BODY_LIMIT].decode("utf-8", "replace") + f"\n... ({len(body):,} bytes; the rest is not kept)"
    return body.decode("utf-8", "replace")


def id_text(envelope: jsonrpc.Envelope) -> str | None:
    """The JSON-RPC id as the journal keeps it: JSON text, or nothing for a notification."""
    return None if envelope.is_notification else json.dumps(envelope.id)


# -- outbound -----------------------------------------------------------------------------------------


def queue_out(db: sqlite3.Connection, at: float, method: str, encoded_params: str, remote: str | None, status: Status,
              due_at: float, caused_by: int | None, order_id: str | None) -> int:
    """Journal one delivery of `method` to `remote`; returns its row id."""
    # Each delivery has its own JSON-RPC id, kept across retries: receivers use it to drop duplicates.
    delivery_id = str(uuid.uuid4())
    body = f'{{"jsonrpc":"2.0","id":"{delivery_id}","method":{jsontext.dumps(method)},"params":{encoded_params}}}'
    cursor = db.execute(
        "INSERT INTO journal (at, direction, route, method, request_id, remote, body, status, due_at, caused_by, order_id)"
        " VALUES (?, 'out', 'delivery', ?, ?, ?, ?, ?, ?, ?, ?)",
        (at, method, f'"{delivery_id}"', remote, body, status, due_at, caused_by, order_id),
    )
    return _inserted(cursor)


def mark_sending(db: sqlite3.Connection, row_id: int) -> str:
    """A delivery about to be sent while its caller waits; returns its body."""
    db.execute("UPDATE journal SET status = ? WHERE id = ?", (Status.SENDING, row_id))
    body: str = db.execute("SELECT body FROM journal WHERE id = ?", (row_id,)).fetchone()[0]
    return body


def settle(db: sqlite3.Connection, row_id: int, status: Status, attempts: int, error: str | None, response: str | None,
           due_at: float | None = None) -> None:
    """Record how an attempt at a delivery went: delivered, failed, or retrying (at `due_at`)."""
    db.execute(
        "UPDATE journal SET status = ?, attempts = ?, error = ?, response = ?, due_at = COALESCE(?, due_at) WHERE id = ?",
        (status, attempts, error, response, due_at, row_id),
    )


def owed(store: Store) -> list[sqlite3.Row]:
    """The first waiting delivery of each remote (id, remote, due_at)."""
    return store.query(_FIRST_OWED)


# The remotes with something owed are found by skipping through the outbox index one remote at a time,
# so the cost grows with the number of remotes, not with the backlog (comparing every waiting row with
# its remote's first took ~40 ms at 20,000 rows, and this runs after every delivery).
_FIRST_OWED = f"""
WITH RECURSIVE owed(remote) AS (
    SELECT MIN(remote) FROM journal WHERE direction = 'out' AND {_WAITING_SQL}
    UNION ALL
    SELECT (SELECT MIN(remote) FROM journal WHERE direction = 'out' AND {_WAITING_SQL} AND remote > owed.remote)
    FROM owed WHERE owed.remote IS NOT NULL
)
SELECT j.id, j.remote, j.due_at FROM owed JOIN journal j ON j.id = (
    SELECT MIN(k.id) FROM journal k WHERE k.direction = 'out' AND k.{_WAITING_SQL} AND k.remote = owed.remote)
"""


def owed_after(store: Store, remote: str, row_id: int) -> sqlite3.Row | None:
    """The delivery `remote` is owed next after row `row_id`, if any."""
    rows = store.query(
        f"SELECT id, remote, due_at FROM journal WHERE direction = 'out' AND remote = ? AND {_WAITING_SQL} AND id > ? ORDER BY id LIMIT 1",
        (remote, row_id),
    )
    return rows[0] if rows else None


def waiting(store: Store) -> int:
    """How many deliveries wait for an attempt."""
    count: int = store.query(f"SELECT COUNT(*) FROM journal WHERE direction = 'out' AND {_WAITING_SQL}")[0][0]
    return count


def attempts_by_remote(store: Store) -> dict[str, int]:
    """Remote id -> how many delivery attempts the bus has made to it."""
    found = store.query("SELECT remote, SUM(attempts) FROM journal WHERE direction = 'out' AND remote IS NOT NULL GROUP BY remote")
    return {remote: attempts for remote, attempts in found}


def delivery(store: Store, row_id: int) -> sqlite3.Row:
    """What the deliverer needs of one delivery: body, attempts, status, due_at."""
    return store.query("SELECT body, attempts, status, due_at FROM journal WHERE id = ?", (row_id,))[0]


def cancel_for(db: sqlite3.Connection, remote: str, reason: str) -> None:
    """Fail every delivery still waiting for `remote`: they can never arrive now."""
    db.execute(f"UPDATE journal SET status = ?, error = ? WHERE direction = 'out' AND remote = ? AND {_WAITING_SQL}",
               (Status.FAILED, reason, remote))


def retry(store: Store, row_id: int) -> Doc:
    """Put a failed (or delivered) delivery back in the queue, as the connector's Message Log 'Retry' does."""
    if row_id >= 2**63:  # beyond SQLite's integers: no such row, rather than an overflow
        raise LookupError(f"No journal row {row_id}.")
    with store.transaction() as db:
        row = db.execute("SELECT * FROM journal WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise LookupError(f"No journal row {row_id}.")
        if row["direction"] != "out" or row["remote"] is None:
            raise ValueError(f"Row {row_id} is not a delivery to a remote; only deliveries can be retried.")
        if row["status"] not in (Status.FAILED, Status.DELIVERED):
            raise ValueError(f"Row {row_id} is {row['status']}; only a failed or delivered delivery can be sent again.")
        if db.execute("SELECT 1 FROM remotes WHERE id = ?", (row["remote"],)).fetchone() is None:
            raise ValueError(f"Remote {row['remote']!r} is no longer registered; register it again, then retry.")
        db.execute("UPDATE journal SET status = ?, due_at = ?, attempts = 0 WHERE id = ?", (Status.PENDING, time.time(), row_id))
        row = db.execute("SELECT * FROM journal WHERE id = ?", (row_id,)).fetchone()
    return row_view(row)


# -- what flows look up -------------------------------------------------------------------------------


def sent_count(db: sqlite3.Connection, method: str, order_id: str) -> int:
    """How many `method` rows the journal holds for an order."""
    count: int = db.execute("SELECT COUNT(*) FROM journal WHERE method = ? AND order_id = ?", (method, order_id)).fetchone()[0]
    return count


def sent_with_reference(db: sqlite3.Connection, topic: str, reference: str) -> sqlite3.Row | None:
    """The first payment command (a method under `topic`) sent with this operation_reference: method, order_id."""
    row: sqlite3.Row | None = db.execute(
        "SELECT method, order_id FROM journal WHERE direction = 'out' AND method LIKE ? "
        "AND json_extract(body, '$.params.payment.operation_reference') = ? LIMIT 1",
        (topic + "%", reference),
    ).fetchone()
    return row


def sent_payments(db: sqlite3.Connection, method: str, order_id: str) -> list[sqlite3.Row]:
    """One `method` delivery per operation_reference sent for an order, oldest first: reference, body."""
    return db.execute(
        "SELECT DISTINCT json_extract(body, '$.params.payment.operation_reference') AS reference, body FROM journal "
        "WHERE direction = 'out' AND method = ? AND order_id = ? GROUP BY reference ORDER BY MIN(id)",
        (method, order_id),
    ).fetchall()


def sent_under(store: Store, topic: str) -> list[sqlite3.Row]:
    """Every delivery of a method under `topic`, oldest first: id, at, method, remote, status, order_id, body."""
    return store.query(
        "SELECT id, at, method, remote, status, order_id, body FROM journal WHERE direction = 'out' AND method LIKE ? ORDER BY id",
        (topic + "%",),
    )


# -- the journal as the viewer shows it ---------------------------------------------------------------


def newest_id(store: Store) -> int:
    """The id of the newest row (0 for an empty journal): rows after it are what happens from now on."""
    return int(store.query("SELECT COALESCE(MAX(id), 0) FROM journal")[0][0])


def rows(store: Store, filters: Mapping[str, Any]) -> list[Doc]:
    """Journal rows, oldest first, filtered by exact values; `since` gives rows after an id, `limit`
    keeps the newest N."""
    where: list[str] = []
    args: list[int | str] = []
    for name in FILTERS:
        value = filters.get(name)
        if value is not None and value != "":
            where.append(f"{name} = ?")
            # numpy integers (e.g. a DataFrame index value) would bind as bytes and match nothing
            args.append(int(value) if isinstance(value, numbers.Integral) else str(value))
    since = _whole(filters.get("since"), "since", 0)
    limit = _whole(filters.get("limit"), "limit", 1000)
    where.append("id > ?")
    args.append(since)
    found = store.query(
        f"SELECT * FROM (SELECT * FROM journal WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?) ORDER BY id",
        (*args, limit),
    )
    return [row_view(row) for row in found]


def row_view(row: sqlite3.Row) -> Doc:
    """One journal row as data, with its JSON decoded and any registration secret masked."""
    return {
        "id": row["id"],
        "at": iso_millis(row["at"]),
        "direction": row["direction"],
        "route": row["route"],
        "method": row["method"],
        "remote": row["remote"],
        "status": row["status"],
        "attempts": row["attempts"],
        "error_code": row["error_code"],
        "error": row["error"],
        "order_id": row["order_id"],
        "caused_by": row["caused_by"],
        "request_id": _json(row["request_id"]),
        "body": _masked(_json(row["body"])),
        "response": _json(row["response"]),
    }


_SECRET_TEXT = re.compile(r'("secret"\s*:\s*)"(?:[^"\\]|\\.)*"')


def _masked(body: Any) -> Any:
    """Never show a registration secret on a page: not in a register, nor in a misspelt or broken one."""
    if isinstance(body, dict):
        params = body.get("params")
        if isinstance(params, dict) and params.get("secret"):
            return {**body, "params": {**params, "secret": "***"}}
    elif isinstance(body, str) and "secret" in body:
        return _SECRET_TEXT.sub(r'\1"***"', body)
    return body


def _json(text: str | None) -> Any:
    """Stored JSON as data; text that is not strict JSON (a rejected body, say) stays text, so the
    answer can always be rendered."""
    if text is None:
        return None
    try:
        return jsonrpc.decode(text.encode("utf-8", "surrogatepass"))
    except jsonrpc.RpcError:
        return text


def _whole(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    if not re.fullmatch(r"[0-9]{1,18}", str(value)):  # 18 digits: SQLite integers are 64-bit
        raise ValueError(f"{name} must be a whole number (0 to 18 digits), got {str(value)[:40]!r}.")
    return int(value)
