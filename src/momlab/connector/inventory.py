"""Stock on the Commerce side: MCOM > Manage Stock Aggregates and the aggregate stock handler.

OMS publishes `magento.inventory.aggregate_stock_management.updated` once per stock aggregate. The
connector maps the snapshot to websites through *MCOM > Manage Stock Aggregates*: each entry has a
Stock code, which must equal the OMS aggregate id, and a Website (mom-reference.md 5.2, [doc]:
merchdocs manage-stock-aggregates). The connector ignores Commerce's own stock values: a website's
salable stock is what its aggregate's snapshots say [doc]. In the real connector this handler is
`Magento\\InventoryMessageBus\\Handler\\OnAggregateStockUpdatedSubscriber` [doc: kb-getmode].

What the real connector does with a snapshot whose aggregate no website is mapped to is not public
[unverified]. momlab records it in the Message Log as ERROR, with what to fix, so that it shows up
where troubleshooting starts (5.10); once the mapping exists, Retry applies it.

The snapshot's `mode` is read as for source snapshots [inferred]: DELTA and FULL change the listed
SKUs and keep the others; NONZERO also sets the website's other SKUs from that aggregate to zero,
except unlimited ones.
"""

from __future__ import annotations

from momlab.connector.errors import ConfigError, HandlerError


def map_aggregate(db, stock_code: str, website_code: str) -> None:
    """Add New Stock Aggregate (or edit one): the website's stock comes from aggregate `stock_code`."""
    if not isinstance(stock_code, str) or not stock_code.strip():
        raise ConfigError("The Stock code is empty: enter the OMS stock aggregate id, e.g. 'AGG-WEB'.")
    if stock_code != stock_code.strip():
        raise ConfigError(f"The Stock code {stock_code!r} has spaces at its start or end; it must equal the OMS aggregate id exactly.")
    if db.execute("SELECT 1 FROM store_website WHERE code = ?", (website_code,)).fetchone() is None:
        known = [r[0] for r in db.execute("SELECT code FROM store_website ORDER BY code")]
        raise ConfigError(f"There is no website {website_code!r}. Websites: {', '.join(known)}.")
    db.execute(
        "INSERT INTO mcom_stock_aggregate VALUES (?, ?) ON CONFLICT (website_code) DO UPDATE SET stock_code = excluded.stock_code",
        (website_code, stock_code),
    )


def unmap(db, website_code: str) -> bool:
    return db.execute("DELETE FROM mcom_stock_aggregate WHERE website_code = ?", (website_code,)).rowcount > 0


def websites_of(db, aggregate_id: str) -> list[str]:
    rows = db.execute("SELECT website_code FROM mcom_stock_aggregate WHERE stock_code = ? ORDER BY website_code", (aggregate_id,))
    return [r[0] for r in rows]


def on_aggregate_stock_updated(ctx, params: dict) -> dict:
    snapshot = params["snapshot"]
    aggregate_id = snapshot["aggregate_id"]
    mode = snapshot.get("mode") or "DELTA"
    websites = websites_of(ctx.db, aggregate_id)
    if not websites:
        codes = [r[0] for r in ctx.db.execute("SELECT DISTINCT stock_code FROM mcom_stock_aggregate ORDER BY stock_code")]
        raise HandlerError(
            f"No website is mapped to stock aggregate {aggregate_id!r}, so this stock was not applied. Add it under "
            f"MCOM > Manage Stock Aggregates (Stock code {aggregate_id!r}, and the website), then Retry this message. "
            f"Stock codes mapped now: {', '.join(codes) or 'none'}."
        )
    stock = [entry for entry in snapshot.get("stock") or [] if isinstance(entry, dict)]
    listed = {entry["sku"] for entry in stock}
    zeroed = 0
    for website in websites:
        ctx.db.executemany(
            "INSERT INTO salable_stock VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (website_code, sku) DO UPDATE SET "
            "quantity = excluded.quantity, unlimited = excluded.unlimited, aggregate_id = excluded.aggregate_id, updated_at = excluded.updated_at",
            [(website, e["sku"], float(e["quantity"]), 1 if e.get("unlimited") else 0, aggregate_id, ctx.now) for e in stock],
        )
        if mode == "NONZERO":
            others = [r[0] for r in ctx.db.execute(
                "SELECT sku FROM salable_stock WHERE website_code = ? AND aggregate_id = ? AND unlimited = 0", (website, aggregate_id))
                if r[0] not in listed]
            ctx.db.executemany("UPDATE salable_stock SET quantity = 0, updated_at = ? WHERE website_code = ? AND sku = ?",
                               [(ctx.now, website, sku) for sku in others])
            zeroed += len(others)
        ctx.dispatch("mcom_stock_updated", website_code=website, aggregate_id=aggregate_id,
                     stock=[{"sku": e["sku"], "quantity": e["quantity"]} for e in stock])
    return {"aggregate_id": aggregate_id, "mode": mode, "websites": websites, "skus": len(stock), "zeroed": zeroed}
