"""Sourcing beyond "source at once": batch waves (soft, then hard allocation), bundles that ship
together, and pre-orders that wait for their street date (mom-reference.md 5.3, 5.7, 7.4).

What the sources say:
- The sourcing engine runs in *direct* mode (it sources an order at once) or in *batch* mode (waves
  at configured times); ISPU orders are always sourced directly. A wave sorts its orders by age,
  shipping method and line count [doc].
- "Hard in-flight" quantity is counted per source: stock held by orders already sourced there and
  not yet acknowledged by the logistics provider [doc]. "Soft allocation" is in no public source;
  the course reads it as the hold an accepted order puts on its channel's stock aggregate before any
  source is chosen [inferred].
- Bundles follow one of the sourcing rules SHIPTOGETHER, SHIPSIMULTANEOUSLY, SHIPSEPARATELY, set per
  stock aggregate in the SI Portal [doc]. Pre-order lines carry `pre_order_street_date` [code], and
  `payments_management.revalidate` renews a long-lived order's authorisation [doc].

What this mock does [mock]:
- Each stock aggregate sources in mode 'direct' (the default) or 'batch' (`set_mode`, in notebooks
  `mom.admin.sourcing_mode`).
- In batch mode a new order's shippable lines, except pickup lines, are queued: each holds one unit
  against the aggregate (table soft_holds), stays NEW/INITIALORDER, and the order stays
  RECEIVED/IMPORTED. `run_wave` (`mom.admin.run_sourcing`) sources the queued lines, oldest first:
  each soft hold becomes a hard hold at the chosen source (table holds), shipment requests go out as
  in direct mode, and the order moves to LOGISTICS/READYTOSHIP.
- A line of product_type BUNDLE is not shipped itself; the lines whose parent_line_id names it are
  its components and are sourced together, at the first source (by priority) that has every one of
  them available, else at the first source as a backorder (SHIPTOGETHER). No message tells OMS which
  rule a bundle follows, so the mock applies SHIPTOGETHER to every bundle.
- A line whose pre_order_street_date is later than the day it would be sourced waits in the queue
  (a soft hold) in either mode. A wave run on or after that date sources it, after sending
  payments_management.revalidate for those lines (not for offline payments).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from momlab.bus import journal
from momlab.bus import payment_messages as payments
from momlab.bus import stock_levels as inventory
from momlab.bus.context import Context
from momlab.bus.flows import orders, view
from momlab.bus.flows.orders import UPDATED, order_document, set_status, stored_order
from momlab.bus.jsonrpc import INVALID_PARAMS, UNKNOWN_ENTITY, Doc, RpcError
from momlab.bus.store import Store
from momlab.bus.timestamps import iso_seconds

AGGREGATE_UPDATED = "magento.inventory.aggregate_stock_management.updated"
REVALIDATE = "magento.payments.payments_management.revalidate"
MODES = ("direct", "batch")


# -- settings -----------------------------------------------------------------------------------


def mode_of(db: sqlite3.Connection, aggregate_id: str) -> str:
    row: sqlite3.Row | None = db.execute("SELECT mode FROM sourcing_modes WHERE aggregate_id = ?", (aggregate_id,)).fetchone()
    return str(row[0]) if row else "direct"


def set_mode(ctx: Context, aggregate_id: str, mode: str) -> Doc:
    """Choose how an aggregate's orders are sourced: 'direct' or 'batch' (an SI Portal setting)."""
    if mode not in MODES:
        raise RpcError(INVALID_PARAMS, f"mode must be 'direct' or 'batch', got {mode!r}.", {"path": "mode"})
    _require_aggregate(ctx.db, aggregate_id)
    ctx.db.execute(
        "INSERT INTO sourcing_modes VALUES (?, ?) ON CONFLICT (aggregate_id) DO UPDATE SET mode = excluded.mode",
        (aggregate_id, mode),
    )
    waiting = ctx.db.execute("SELECT COUNT(*) FROM sourcing_queue WHERE aggregate_id = ?", (aggregate_id,)).fetchone()[0]
    return {"aggregate_id": aggregate_id, "mode": mode, "waiting_lines": waiting}


# -- at order create ----------------------------------------------------------------------------


def plan(ctx: Context, order: Doc, lines: list[Doc], channel: str, aggregate_id: str) -> None:
    """Sourcing hook (orders.SOURCING_HOOKS): queue what must wait, source bundles together."""
    originals = {str(x["id"]): x for x in order["lines"]}
    today = _day(ctx.now)
    batch = mode_of(ctx.db, aggregate_id) == "batch"
    queued: list[str] = []
    for index, line in enumerate(lines):
        original = originals[line["line_id"]]
        if line.get("claimed") or line["product_type"] in inventory.NOT_SHIPPABLE or original.get("pickup_location"):
            continue  # pickup lines: ISPU is always sourced directly (flows/instore.py)
        street = _street_date(original, index)
        if (street and street > today) or batch:
            _queue(ctx, str(order["id"]), line, aggregate_id, street)
            queued.append(line["sku"])
    groups = bundle_groups(order, [x for x in lines if not x.get("claimed")])
    if groups:
        orders.send_requests(ctx, order, channel, source_bundles(ctx, groups, aggregate_id))
    if queued:
        publish_aggregate(ctx, aggregate_id, queued)


def bundle_groups(order: Doc, lines: list[Doc]) -> dict[str, list[Doc]]:
    """{bundle line id: its shippable component lines} among `lines` (components name the BUNDLE line
    in parent_line_id), leaving out pickup lines."""
    originals = {str(x["id"]): x for x in order["lines"]}
    bundles = {line_id for line_id, x in originals.items() if orders.line_type(x) == "BUNDLE"}
    groups: dict[str, list[Doc]] = {}
    for line in lines:
        original = originals[line["line_id"]]
        parent = original.get("parent_line_id")
        if parent is not None and str(parent) in bundles and line["product_type"] not in inventory.NOT_SHIPPABLE and not original.get("pickup_location"):
            groups.setdefault(str(parent), []).append(line)
    return groups


def source_bundles(ctx: Context, groups: dict[str, list[Doc]], aggregate_id: str) -> dict[str, list[Doc]]:
    """Give each bundle's lines one source that can ship them together, holding a unit per line
    there; {source: lines}. A bundle no source can ship whole is left for direct sourcing."""
    sources = inventory.sources_of(ctx.db, aggregate_id)
    by_source: dict[str, list[Doc]] = {}
    for group in groups.values():
        source = source_together(ctx.db, sources, group)
        if source is None:
            continue
        for line in group:
            inventory.hold(ctx.db, source, line["sku"], 1)
            line.update(claimed=True, source_id=source, status="NEW", status_reason="ITEM_PENDING_PICKING")
        by_source.setdefault(source, []).extend(group)
    return by_source


def source_together(db: sqlite3.Connection, sources: list[str], group: list[Doc]) -> str | None:
    """SHIPTOGETHER: the first source (by priority) with every unit of the group available, else the
    first source (a backorder)."""
    need = Counter(line["sku"] for line in group)
    for source in sources:
        if all(_has(db, source, sku, units) for sku, units in need.items()):
            return source
    return sources[0] if sources else None


def _has(db: sqlite3.Connection, source: str, sku: str, units: int) -> bool:
    quantity, unlimited = inventory.available(db, [source], sku)
    return unlimited or quantity >= units


def _queue(ctx: Context, order_id: str, line: Doc, aggregate_id: str, street: str | None) -> None:
    line.update(claimed=True, waiting=True)
    inventory.soft_hold(ctx.db, aggregate_id, line["sku"], 1)
    ctx.db.execute(
        "INSERT INTO sourcing_queue (order_id, line_id, aggregate_id, sku, street_date, queued_at) VALUES (?, ?, ?, ?, ?, ?)",
        (order_id, line["line_id"], aggregate_id, line["sku"], street, ctx.now),
    )


# -- the wave -----------------------------------------------------------------------------------


def run_wave(ctx: Context, aggregate_id: str | None = None, as_of: str | None = None) -> Doc:
    """A batch-sourcing wave: source every queued line that is due (all of them, except pre-order
    lines whose street date is after `as_of`, an ISO date; today by default), oldest order first."""
    if aggregate_id is not None:
        _require_aggregate(ctx.db, aggregate_id)
    day = _parse_day(as_of, "as_of") if as_of is not None else _day(ctx.now)
    sql = "SELECT * FROM sourcing_queue" + (" WHERE aggregate_id = ?" if aggregate_id else "") + " ORDER BY queued_at, rowid"
    rows = [r for r in ctx.db.execute(sql, (aggregate_id,) if aggregate_id else ()) if not r["street_date"] or r["street_date"] <= day]
    by_order: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        by_order.setdefault(row["order_id"], []).append(row)
    sourced: list[Doc] = []
    requests: list[str] = []
    touched_sources: set[str] = set()
    touched_skus: set[str] = set()
    for order_id, queued in by_order.items():
        done = _source_queued(ctx, order_id, queued)
        sourced += done["lines"]
        requests += done["requests"]
        touched_sources |= {x["source_id"] for x in done["lines"] if x["source_id"]}
        touched_skus |= {x["sku"] for x in done["lines"]}
    inventory.publish_aggregates(ctx, touched_sources, touched_skus)
    left = ctx.db.execute(
        "SELECT COUNT(*) FROM sourcing_queue" + (" WHERE aggregate_id = ?" if aggregate_id else ""), (aggregate_id,) if aggregate_id else ()
    ).fetchone()[0]
    return {"as_of": day, "sourced": sourced, "shipment_requests": requests, "still_waiting": left}


def _source_queued(ctx: Context, order_id: str, queued: list[sqlite3.Row]) -> Doc:
    order = stored_order(ctx.db, order_id)
    header = ctx.db.execute("SELECT store, status FROM orders WHERE id = ?", (order_id,)).fetchone()
    channel, aggregate_id = header["store"], queued[0]["aggregate_id"]
    wanted = {row["line_id"] for row in queued}
    lines = [
        dict(row)
        for row in ctx.db.execute(
            "SELECT line_id, line_number, sku, product_type, status, status_reason, source_id, request_id FROM order_lines WHERE order_id = ? ORDER BY rowid",
            (order_id,),
        )
        if row["line_id"] in wanted
    ]
    for row in queued:
        inventory.soft_hold(ctx.db, aggregate_id, row["sku"], -1)
    ctx.db.execute(
        f"DELETE FROM sourcing_queue WHERE order_id = ? AND line_id IN ({','.join('?' * len(wanted))})", (order_id, *wanted)
    )
    pre_orders = [row["line_id"] for row in queued if row["street_date"]]
    if pre_orders:
        _revalidate(ctx, order, pre_orders)
    by_source = source_bundles(ctx, bundle_groups(order, lines), aggregate_id)
    for source, group in orders.source_lines(ctx.db, [x for x in lines if not x.get("claimed")], aggregate_id).items():
        by_source.setdefault(source, []).extend(group)
    requests = orders.send_requests(ctx, order, channel, by_source)
    ctx.db.executemany(
        "UPDATE order_lines SET source_id = ?, request_id = ?, status = ?, status_reason = ? WHERE order_id = ? AND line_id = ?",
        [(x["source_id"], x["request_id"], x["status"], x["status_reason"], order_id, x["line_id"]) for x in lines],
    )
    if header["status"] == "RECEIVED":
        set_status(ctx.db, order_id, "LOGISTICS", "READYTOSHIP", ctx.now)
    else:
        ctx.db.execute("UPDATE orders SET updated_at = ? WHERE id = ?", (ctx.now, order_id))
    ctx.publish(UPDATED, {"order": order_document(ctx.db, order_id)}, order_id)
    return {
        "lines": [{"order_id": order_id, "line_id": x["line_id"], "sku": x["sku"], "source_id": x["source_id"], "request_id": x["request_id"]} for x in lines],
        "requests": requests,
    }


def _revalidate(ctx: Context, order: Doc, line_ids: list[str]) -> None:
    """payments_management.revalidate for the pre-order lines now being sourced, per payment."""
    order_id = str(order["id"])
    originals = [x for x in order["lines"] if str(x["id"]) in line_ids]
    for payment in order.get("payments") or []:
        transaction = next(iter(payment.get("transactions") or []), None)
        if transaction is None or payments.is_offline(transaction):
            continue
        paid = payments.paid_by({**order, "lines": originals}, payment)
        if paid:
            sent = journal.sent_count(ctx.db, REVALIDATE, order_id)
            reference = f"{order_id}-revalidate-{sent + 1}"
            ctx.publish(REVALIDATE, payments.payment_params(order, payment, transaction, reference, paid), order_id)


def release_queued(db: sqlite3.Connection, order_id: str, line_id: str) -> bool:
    """Take a line out of the sourcing queue (e.g. it was cancelled), freeing its soft hold."""
    row = db.execute("SELECT aggregate_id, sku FROM sourcing_queue WHERE order_id = ? AND line_id = ?", (order_id, line_id)).fetchone()
    if row is None:
        return False
    inventory.soft_hold(db, row["aggregate_id"], row["sku"], -1)
    db.execute("DELETE FROM sourcing_queue WHERE order_id = ? AND line_id = ?", (order_id, line_id))
    return True


def publish_aggregate(ctx: Context, aggregate_id: str, skus: Iterable[str]) -> None:
    """aggregate_stock_management.updated for one aggregate (a soft hold changes only its own)."""
    snapshot = {
        "aggregate_id": aggregate_id,
        "created_on": iso_seconds(ctx.now),
        "mode": "DELTA",
        "stock": inventory.aggregate_stock(ctx.db, aggregate_id, sorted(set(skus))),
    }
    ctx.publish(AGGREGATE_UPDATED, {"snapshot": snapshot})


# -- helpers ------------------------------------------------------------------------------------


def _require_aggregate(db: sqlite3.Connection, aggregate_id: str) -> None:
    if db.execute("SELECT 1 FROM aggregates WHERE id = ?", (aggregate_id,)).fetchone() is None:
        known = [r[0] for r in db.execute("SELECT id FROM aggregates ORDER BY id")]
        raise RpcError(UNKNOWN_ENTITY, f"Stock aggregate {aggregate_id!r} is not set up in OMS. Known aggregates: {', '.join(known)}.", {"path": "aggregate_id"})


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def _parse_day(value: Any, path: str) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise RpcError(INVALID_PARAMS, f"{value!r} is not an ISO date; write it like 2027-03-01.", {"path": path}) from None


def _street_date(original: Doc, index: int) -> str | None:
    value = original.get("pre_order_street_date")
    if value in (None, ""):
        return None
    return _parse_day(value, f"$.params.order.lines[{index}].pre_order_street_date")


@view("sourcing_queue")
def queue_view(store: Store, query: Mapping[str, str]) -> list[Doc]:
    """State view `sourcing_queue`: the lines waiting for a wave, each holding a unit of its aggregate."""
    rows = store.query("SELECT order_id, line_id, aggregate_id, sku, street_date FROM sourcing_queue ORDER BY queued_at, rowid")
    return [dict(r) for r in rows]

orders.SOURCING_HOOKS.append(plan)
