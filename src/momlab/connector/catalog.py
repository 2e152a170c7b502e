"""The catalog on the Commerce side, and how it reaches OMS (exam objective 6.3).

- Creating a product, or changing its name, sku, descriptions or configured custom attributes, sends
  `magento.catalog.product_management.updated` [doc]. momlab queues one when `save_product` runs.
- Shipping methods travel as products of type "shipping" [doc: omsdocs synchronize-shipping]: an
  order's shipping line names one by its sku, so OMS must know it first. Flat rate goes as
  `STANDARD`; other methods as carrier plus method, e.g. `UPS-NextDayAirEarlyAM` [doc].
- *Catalog > Products > Export Full Catalog* queues every product for export; the messages go out in
  chunks of 5,000 [doc: admin guide, connector feature list], so products can reach OMS with a
  delay. momlab sends at most one chunk per run of the message processor [inferred], so an export
  that is interrupted (the process killed, the bus down) resumes where it stopped: the messages
  already accepted are SUCCESS and are not sent again.
- A command-line equivalent of Export Full Catalog exists, but its name could not be read in the
  public sources [doc for its existence; name unverified]: momlab does not invent one.
"""

from __future__ import annotations

import json
import math

from momlab import data

TOPIC = "magento.catalog.product_management.updated"
BATCH_SIZE = 5000
CATALOG_FILE = "catalog_full.csv"


def load(db, rows) -> int:
    """Fill the store's catalog (sku, name, type, price, attributes) from data rows."""
    db.executemany(
        "INSERT INTO catalog_product (sku, name, type, price, attributes) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sku) DO UPDATE SET "
        "name = excluded.name, type = excluded.type, price = excluded.price",
        [(r["sku"], r["name"], r["type"], float(r.get("price") or 0), json.dumps(r.get("attributes") or {})) for r in rows],
    )
    return len(rows)


def default_rows() -> list[dict]:
    return data.rows(CATALOG_FILE)


def product(db, sku: str) -> dict:
    row = db.execute("SELECT rowid, sku, name, type, price, attributes FROM catalog_product WHERE sku = ?", (sku,)).fetchone()
    if row is None:
        raise LookupError(f"The catalog has no product {sku!r}.")
    return _product(row)


def _product(row) -> dict:
    return {"id": str(row["rowid"]), "sku": row["sku"], "name": row["name"], "type": row["type"], "price": row["price"],
            "attributes": json.loads(row["attributes"])}


def build_updated(product: dict) -> dict:
    """The params of magento.catalog.product_management.updated for one product (3 row 7)."""
    kind = "shipping" if product["type"].upper() == "SHIPPING" else product["type"]
    params = {
        "product": {
            "id": product["id"],
            "sku": product["sku"],
            "type": kind,
            "name": [{"value": product["name"], "channel": None, "locale": "en_US"}],
            "enabled": True,
        }
    }
    if product.get("attributes"):
        params["product"]["custom_attributes"] = [{"attribute_code": k, "value": v} for k, v in product["attributes"].items()]
    return params


def iter_products(db, where: str = "", args: tuple = ()):
    for row in db.execute(f"SELECT rowid, sku, name, type, price, attributes FROM catalog_product {where} ORDER BY rowid", args):
        yield _product(row)


def batches(total: int, batch_size: int = BATCH_SIZE) -> list[int]:
    """How many messages each chunk holds: 12,000 products -> [5000, 5000, 2000]."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    return [min(batch_size, total - start) for start in range(0, total, batch_size)]


def batch_count(total: int, batch_size: int = BATCH_SIZE) -> int:
    return math.ceil(total / batch_size) if total else 0
