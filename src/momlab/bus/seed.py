"""Fill a fresh store with the course's OMS set-up from data/: products, sources, aggregates,
sales channels and the initial source stock. reset() brings a used store back to that point."""

from __future__ import annotations

import sqlite3
import time

from momlab import data
from momlab.bus.store import CONFIG_TABLES, STATE_TABLES, Store


def seed(store: Store) -> None:
    """Load the set-up once; a store that already has it (a restart) is left as it is."""
    if store.query("SELECT 1 FROM sources LIMIT 1"):
        return
    with store.transaction() as db:
        _load(db)


def reset(store: Store) -> None:
    """Forget every message, remote and order, and restore the set-up and stock from data/."""
    with store.transaction() as db:
        for table in STATE_TABLES + CONFIG_TABLES:
            db.execute(f"DELETE FROM {table}")
        _load(db)


def _load(db: sqlite3.Connection) -> None:
    now = time.time()
    db.executemany("INSERT INTO products VALUES (:sku, :name, :type)", data.rows("products"))
    db.executemany("INSERT INTO sources VALUES (:id, :name, :type, :priority)", data.rows("sources"))
    db.executemany("INSERT INTO aggregates VALUES (:id, :name)", data.rows("aggregates"))
    db.executemany("INSERT INTO aggregate_sources VALUES (:aggregate_id, :source_id)", data.rows("aggregate_sources"))
    db.executemany("INSERT INTO sales_channels VALUES (:id, :name, :aggregate_id)", data.rows("sales_channels"))
    db.executemany(
        "INSERT INTO source_stock VALUES (?, ?, ?, ?, ?)",
        [(r["source_id"], r["sku"], float(r["quantity"]), int(r["unlimited"]), now) for r in data.rows("stock")],
    )
