"""The connector's own database: a SQLite file of its own, never the mock MOM's.

It holds what a Magento Commerce installation with the connector keeps in its MySQL database, cut
down to what the course needs. Table names follow Magento where a name is public
(`mcom_api_messages` [doc: kb-getmode]); the others are named after the Magento tables or admin pages
they stand for, and their columns are momlab's own [mock].
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

from momlab.bus.sqlite import SQLiteFile

SCHEMA = """
-- The Message Log (MCOM > Message Log): every message in and out, processed by oms:messages:process.
CREATE TABLE IF NOT EXISTS mcom_api_messages (
    id           INTEGER PRIMARY KEY,
    direction    TEXT NOT NULL,        -- 'incoming' (from OMS) or 'outgoing' (to OMS)
    topic        TEXT NOT NULL,
    body         TEXT NOT NULL,        -- the params, as JSON
    status       TEXT NOT NULL,        -- NEW (waiting), SUCCESS, ERROR
    error        TEXT,                 -- the reason of the last failure
    trace        TEXT,                 -- its full error trace
    retries      INTEGER NOT NULL DEFAULT 0,
    auto_retry   INTEGER NOT NULL DEFAULT 0,   -- outgoing: the bus was unreachable, so the processor tries again
    delivery_id  TEXT,                 -- incoming: the bus's JSON-RPC id (the same on every retry)
    reference    TEXT,                 -- what the message is about: an order id, a sku, an aggregate
    export_id    INTEGER,              -- outgoing catalog messages of a full export
    batch        INTEGER,              -- their batch (1, 2, ...)
    answer       TEXT,                 -- outgoing: what the bus answered
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS mcom_api_messages_delivery ON mcom_api_messages(delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS mcom_api_messages_queue ON mcom_api_messages(direction, status, id);
CREATE INDEX IF NOT EXISTS mcom_api_messages_export ON mcom_api_messages(export_id, batch, status);

CREATE TABLE IF NOT EXISTS mcom_api_message_history (
    message_id INTEGER NOT NULL,
    at         REAL NOT NULL,
    status     TEXT NOT NULL,
    note       TEXT
);
CREATE INDEX IF NOT EXISTS mcom_api_message_history_message ON mcom_api_message_history(message_id);

-- MCOM > Integration (registration, enable/disable) and connector settings.
CREATE TABLE IF NOT EXISTS mcom_integration (
    application_id TEXT PRIMARY KEY,
    url            TEXT NOT NULL,      -- where the bus delivers to this store
    subscribes     TEXT NOT NULL,      -- JSON list
    registered_at  REAL,
    enabled        INTEGER NOT NULL DEFAULT 1,
    answer         TEXT                -- what the bus answered to the registration
);
CREATE TABLE IF NOT EXISTS core_config_data (
    path  TEXT PRIMARY KEY,
    value TEXT
);

-- Websites and their sales channel in OMS; MCOM > Manage Stock Aggregates.
CREATE TABLE IF NOT EXISTS store_website (
    code             TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    sales_channel_id TEXT
);
CREATE TABLE IF NOT EXISTS mcom_stock_aggregate (
    website_code TEXT PRIMARY KEY,     -- one stock aggregate per website
    stock_code   TEXT NOT NULL         -- must equal the OMS stock aggregate id
);
CREATE TABLE IF NOT EXISTS salable_stock (
    website_code TEXT NOT NULL,
    sku          TEXT NOT NULL,
    quantity     REAL NOT NULL,
    unlimited    INTEGER NOT NULL DEFAULT 0,
    aggregate_id TEXT NOT NULL,
    updated_at   REAL NOT NULL,
    PRIMARY KEY (website_code, sku)
);

-- The catalog (Catalog > Products) and full catalog exports.
CREATE TABLE IF NOT EXISTS catalog_product (
    sku   TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    type  TEXT NOT NULL,
    price REAL NOT NULL DEFAULT 0,
    attributes TEXT NOT NULL DEFAULT '{}'   -- custom attributes, JSON
);
CREATE TABLE IF NOT EXISTS mcom_catalog_export (
    id         INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    total      INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    batches    INTEGER NOT NULL
);

-- Sales: orders, shipments, invoices, credit memos and returns on the Commerce side.
CREATE TABLE IF NOT EXISTS sales_order (
    increment_id      TEXT PRIMARY KEY,
    website_code      TEXT NOT NULL,
    sales_channel_id  TEXT,
    mom_status        TEXT,
    mom_status_reason TEXT,
    body              TEXT NOT NULL,   -- the order as the store holds it (JSON)
    created_at        REAL NOT NULL,
    updated_at        REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sales_order_item (
    order_id      TEXT NOT NULL,
    line_id       TEXT NOT NULL,
    line_number   INTEGER NOT NULL,
    sku           TEXT NOT NULL,
    product_type  TEXT NOT NULL,
    price         REAL NOT NULL,
    mom_status    TEXT,
    mom_status_reason TEXT,
    qty_shipped   INTEGER NOT NULL DEFAULT 0,
    qty_invoiced  INTEGER NOT NULL DEFAULT 0,
    qty_refunded  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line_id)
);
CREATE TABLE IF NOT EXISTS sales_shipment (
    id              INTEGER PRIMARY KEY,
    order_id        TEXT NOT NULL,
    mom_shipment_id TEXT UNIQUE,
    source_id       TEXT,
    created_at      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sales_shipment_item (
    shipment_id INTEGER NOT NULL,
    line_id     TEXT NOT NULL,
    sku         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sales_shipment_track (
    shipment_id     INTEGER NOT NULL,
    carrier         TEXT,
    tracking_number TEXT,
    tracking_link   TEXT
);
CREATE TABLE IF NOT EXISTS sales_invoice (
    id              INTEGER PRIMARY KEY,
    order_id        TEXT NOT NULL,
    mom_shipment_id TEXT,
    grand_total     REAL NOT NULL,
    created_at      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sales_invoice_item (
    invoice_id INTEGER NOT NULL,
    line_id    TEXT NOT NULL,
    sku        TEXT NOT NULL,
    amount     REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sales_creditmemo (
    id                 INTEGER PRIMARY KEY,
    order_id           TEXT NOT NULL,
    credit_note_number TEXT UNIQUE,
    grand_total        REAL NOT NULL,
    created_at         REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS magento_rma (
    rma        TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL,
    status     TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


class ConnectorStore(SQLiteFile):
    """One SQLite file, one connection per thread (the endpoint answers the bus on its own threads);
    a transaction inside the processor's joins it."""

    def __init__(self, path: str | Path | None = None):
        self._cleanup = None
        if path is None:
            folder = tempfile.mkdtemp(prefix="momlab-mcom-")
            path = Path(folder) / "magento.sqlite"
            # a temporary database goes when the store is closed, or at the latest when Python exits
            self._cleanup = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        super().__init__(path, nesting=True)
        self.connection().executescript(SCHEMA)

    def close(self) -> None:
        super().close()
        if self._cleanup is not None:
            self._cleanup()
