"""magento.catalog.product_management.updated: the catalog reaches OMS (mom-reference.md 3 row 7, 5.9).

The Magento Commerce connector (or a PIM) sends this when a product is created or its name, sku,
descriptions or configured custom attributes change; an "Export Full Catalog" sends every product
[doc]. Shipping methods travel the same way, as products of type "shipping" [doc]: an order's
shipping line names one by its sku.

What the mock does with it [mock]: it upserts the product into the `products` table (state view
`products`), keyed by `sku`:
- `type` is stored upper-cased ("shipping" -> "SHIPPING", the spelling order lines use); when the
  message has none, a known product keeps its type and a new one becomes "PHYSICAL";
- `name` is the first non-empty `name[].value` (names come per channel and locale; the mock keeps one);
  when there is none, a known product keeps its name and a new one is named by its sku;
- `status` / `enabled`, `custom_attributes` and `children_skus` are accepted and not stored.
It publishes nothing, and answers with what it stored: {sku, name, type, created, previous}.
"""

from __future__ import annotations

from typing import Any

from momlab.bus.context import Context
from momlab.bus.flows import handles
from momlab.bus.jsonrpc import Doc

DEFAULT_TYPE = "PHYSICAL"


@handles("magento.catalog.product_management.updated")
def product_updated(ctx: Context, params: Doc) -> Doc:
    product = params["product"]
    sku = product["sku"]
    row = ctx.db.execute("SELECT name, type FROM products WHERE sku = ?", (sku,)).fetchone()
    previous = None if row is None else {"name": row["name"], "type": row["type"]}
    kind = product.get("type")
    kind = kind.strip().upper() if isinstance(kind, str) and kind.strip() else (previous or {}).get("type", DEFAULT_TYPE)
    name = _first_name(product.get("name")) or (previous or {}).get("name") or sku
    ctx.db.execute(
        "INSERT INTO products (sku, name, type) VALUES (?, ?, ?) "
        "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, type = excluded.type",
        (sku, name, kind),
    )
    return {"sku": sku, "name": name, "type": kind, "created": previous is None, "previous": previous}


def _first_name(names: Any) -> str | None:
    for entry in names or []:
        value = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
