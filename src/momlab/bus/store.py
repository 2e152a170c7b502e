"""The bus's SQLite store: journal (which is also the outbox), remotes, tokens and OMS state.

One connection per thread and write transactions that queue: momlab.bus.sqlite. Only
momlab.bus.journal reads or writes the journal table.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from momlab.bus.sqlite import SQLiteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id            INTEGER PRIMARY KEY,
    at            REAL    NOT NULL,
    direction     TEXT    NOT NULL,          -- 'in' (sent to the bus) or 'out' (delivered by the bus)
    route         TEXT    NOT NULL,          -- api, remote/oms, delegate/oms, events, delivery
    method        TEXT,
    request_id    TEXT,                      -- JSON text of the JSON-RPC id
    remote        TEXT,                      -- out: the receiving remote's id
    body          TEXT    NOT NULL,          -- the request as sent
    response      TEXT,                      -- the answer (JSON text)
    status        TEXT    NOT NULL,          -- momlab.bus.journal.Status
    error_code    INTEGER,
    error         TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        REAL,                      -- out: when the next attempt may be made
    caused_by     INTEGER,                   -- out: the inbound journal row that caused it
    order_id      TEXT                       -- the order the message concerns, when there is one
);
CREATE INDEX IF NOT EXISTS journal_outbox ON journal(remote, id) WHERE direction = 'out' AND status IN ('pending', 'retrying');
-- By order (the journal viewer's order filter, a flow's look at an order's history). Not by method:
-- an index whose keys are spread over the whole journal costs a page write per message.
CREATE INDEX IF NOT EXISTS journal_order ON journal(order_id);

CREATE TABLE IF NOT EXISTS remotes (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT,
    registered_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    remote_id   TEXT NOT NULL,
    topic       TEXT NOT NULL,
    PRIMARY KEY (topic, remote_id)
);

CREATE TABLE IF NOT EXISTS tokens (
    token       TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    expires_at  REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS sources (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    type  TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS aggregates (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS aggregate_sources (
    aggregate_id TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    PRIMARY KEY (aggregate_id, source_id)
);
CREATE TABLE IF NOT EXISTS sales_channels (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    aggregate_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
    sku   TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    type  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS source_stock (
    source_id TEXT NOT NULL,
    sku       TEXT NOT NULL,
    quantity  REAL NOT NULL,
    unlimited INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    PRIMARY KEY (source_id, sku)
);

-- A stock snapshot split over several messages (snapshot.batch): the missing-SKU rules of FULL and
-- NONZERO apply once every part has arrived.
CREATE TABLE IF NOT EXISTS stock_batches (
    process_id TEXT NOT NULL,
    source_id  TEXT NOT NULL,
    sku        TEXT NOT NULL,
    PRIMARY KEY (process_id, source_id, sku)
);
CREATE TABLE IF NOT EXISTS stock_batch_parts (
    process_id     TEXT NOT NULL,
    process_number INTEGER NOT NULL,
    process_total  INTEGER NOT NULL,
    source_id      TEXT NOT NULL,
    mode           TEXT NOT NULL,
    PRIMARY KEY (process_id, process_number)
);

-- Units held by order lines that are sourced but not yet shipped or cancelled ("in flight"), kept as
-- a running count so that stock checks stay constant-time however many orders exist.
CREATE TABLE IF NOT EXISTS holds (
    source_id TEXT NOT NULL,
    sku       TEXT NOT NULL,
    units     INTEGER NOT NULL,
    PRIMARY KEY (sku, source_id)
);

CREATE TABLE IF NOT EXISTS orders (
    id            TEXT PRIMARY KEY,
    store         TEXT NOT NULL,             -- the sales channel
    status        TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    body          TEXT NOT NULL,             -- the order object as received
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id      TEXT NOT NULL,
    line_id       TEXT NOT NULL,
    line_number   TEXT NOT NULL,
    sku           TEXT NOT NULL,
    product_type  TEXT NOT NULL,
    status        TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    source_id     TEXT,
    request_id    TEXT,
    PRIMARY KEY (order_id, line_id)
);
CREATE INDEX IF NOT EXISTS order_lines_request ON order_lines(request_id);

CREATE TABLE IF NOT EXISTS shipment_requests (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL,
    source_id  TEXT NOT NULL,
    status     TEXT NOT NULL,
    body       TEXT NOT NULL,                -- the request_shipment params as sent
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS shipment_requests_order ON shipment_requests(order_id);

CREATE TABLE IF NOT EXISTS shipments (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    order_id   TEXT NOT NULL,
    body       TEXT NOT NULL,                -- the customer_shipment_done params as sent
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS shipments_request ON shipments(request_id);

-- Returns (RMAs) and refunds (credit notes): flows/postsales.py.
CREATE TABLE IF NOT EXISTS returns (
    rma           TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL,
    sales_channel TEXT NOT NULL,
    source_id     TEXT,                      -- the source that takes the goods back
    status        TEXT NOT NULL,
    body          TEXT NOT NULL,             -- the authorize `return` as received
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS return_lines (
    rma           TEXT NOT NULL,
    order_id      TEXT NOT NULL,
    line_id       TEXT NOT NULL,
    line_number   TEXT NOT NULL,
    sku           TEXT NOT NULL,
    reason        TEXT,
    status        TEXT NOT NULL,
    PRIMARY KEY (rma, line_id)
);
CREATE INDEX IF NOT EXISTS returns_order ON returns(order_id);
CREATE INDEX IF NOT EXISTS return_lines_order ON return_lines(order_id, line_id);
CREATE TABLE IF NOT EXISTS refunds (
    credit_note   TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL,
    rma           TEXT,
    refund_type   TEXT NOT NULL,
    amount        REAL NOT NULL,
    currency      TEXT,
    created_at    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_order ON refunds(order_id);

-- Sourcing in waves, bundles and pre-orders (flows/allocation.py): the mode per aggregate ('batch';
-- absent means 'direct'), the lines waiting for a wave, and the units they hold against their
-- aggregate before any source is chosen ("soft"; the hard holds per source are in `holds`).
CREATE TABLE IF NOT EXISTS sourcing_modes (
    aggregate_id TEXT PRIMARY KEY,
    mode         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sourcing_queue (
    order_id     TEXT NOT NULL,
    line_id      TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    sku          TEXT NOT NULL,
    street_date  TEXT,                       -- a pre-order line waits until this ISO date
    queued_at    REAL NOT NULL,
    PRIMARY KEY (order_id, line_id)
);
CREATE TABLE IF NOT EXISTS soft_holds (
    aggregate_id TEXT NOT NULL,
    sku          TEXT NOT NULL,
    units        INTEGER NOT NULL,
    PRIMARY KEY (aggregate_id, sku)
);

-- Store fulfilment (flows/instore.py): stores working in the In-Store Interface, and the order lines
-- picked there (kind PICKUP: in-store pickup at pickup_location; SHIP: ship from store).
CREATE TABLE IF NOT EXISTS in_store_sources (
    source_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS store_lines (
    order_id        TEXT NOT NULL,
    line_id         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    pickup_location TEXT,
    transfer_from   TEXT,                    -- ship to store: the source the unit comes from
    PRIMARY KEY (order_id, line_id)
);

-- Payment notifications received on OMS's delegate URL (the commands are in the journal): flows/payments.py.
CREATE TABLE IF NOT EXISTS payment_notifications (
    id            INTEGER PRIMARY KEY,
    at            REAL NOT NULL,
    method        TEXT NOT NULL,
    order_id      TEXT,
    operation_reference TEXT,
    body          TEXT NOT NULL              -- the params as received
);

-- The mock's status page (momlab/bus/statuspage.py): incidents, webhook subscriptions and their deliveries.
CREATE TABLE IF NOT EXISTS status_incidents (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,               -- incident | maintenance
    title       TEXT NOT NULL,
    component   TEXT NOT NULL,
    regions     TEXT NOT NULL,               -- JSON list
    impact      TEXT NOT NULL,
    status      TEXT NOT NULL,               -- investigating | identified | monitoring | resolved
    started_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    resolved_at REAL,
    updates     TEXT NOT NULL                -- JSON list of {at, status, message}
);
CREATE TABLE IF NOT EXISTS status_subscriptions (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT,
    components  TEXT NOT NULL,               -- JSON lists: the filters
    regions     TEXT NOT NULL,
    events      TEXT NOT NULL,
    created_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS status_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL,
    incident_id     INTEGER,
    event           TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,           -- pending | retrying | delivered | failed | cancelled
    attempts        INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    at              REAL NOT NULL,
    due_at          REAL
);
"""

# Everything but the configuration loaded from data/: what reset() empties.
STATE_TABLES = ("journal", "remotes", "subscriptions", "stock_batches", "stock_batch_parts", "orders", "order_lines", "shipment_requests", "shipments", "source_stock", "holds",
                "returns", "return_lines", "refunds", "payment_notifications",
                "sourcing_modes", "sourcing_queue", "soft_holds", "in_store_sources", "store_lines",
                "status_incidents", "status_subscriptions", "status_deliveries")
CONFIG_TABLES = ("sources", "aggregates", "aggregate_sources", "sales_channels", "products")

# The schema's version, kept in the file's `PRAGMA user_version`. MIGRATIONS[n] takes a database
# from version n - 1 to n; SCHEMA has already created whatever is missing.
MIGRATIONS = {
    # indexes that older databases have: by method (a page write per message for no query that
    # needs it) and on order lines by stock (in-flight units are counted in `holds` now)
    1: "DROP INDEX IF EXISTS journal_method; DROP INDEX IF EXISTS order_lines_stock;",
}
SCHEMA_VERSION = max(MIGRATIONS)


class Store(SQLiteFile):
    def __init__(self, path: str | Path):
        super().__init__(path)
        self._checkpointer: threading.Thread | None = None
        self._stop = threading.Event()
        db = self.connection()
        db.executescript(SCHEMA)  # executescript manages its own transaction
        _migrate(db)

    def _opened(self, db: sqlite3.Connection) -> None:
        if self._checkpointer is not None:
            db.execute("PRAGMA wal_autocheckpoint=0")

    def start_checkpointer(self, interval: float = 0.5) -> None:
        """Copy the WAL into the database from a thread of its own, so the fsync a checkpoint
        needs is not paid by whichever request happens to fill the WAL. Call before other use."""
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, args=(interval,), name="momlab-checkpoint", daemon=True)
            self.connection().execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer.start()

    def _checkpoint_loop(self, interval: float) -> None:
        db = None
        try:
            while not self._stop.wait(interval):
                try:
                    db = db or sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    if not Path(self.path).exists():
                        return  # its folder was removed (a kernel's sandbox ending): nothing left to copy
                    # otherwise (a busy disk, say) the next round tries again
        finally:
            if db is not None:
                db.close()

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        super().close()


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a database written by an older momlab up to SCHEMA_VERSION, one step per transaction."""
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    for step in range(version + 1, SCHEMA_VERSION + 1):
        db.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[step]} PRAGMA user_version = {step}; COMMIT;")
