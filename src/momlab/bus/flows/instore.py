"""Store fulfilment: in-store pickup (ISPU), ship from store (SFS), ship to store (STS), and the
store's picking, confirmed or declined line by line (mom-reference.md 3 notes, 5.5, 5.6).

What the sources say:
- ISPU: the customer orders online and collects in a store. Associates work in OMS's responsive
  In-Store Interface (Sales > In-Store Pickup): they pick the items, confirming or declining each
  line; payments are not tracked there. The flow ends customer_shipment_done -> updated [doc]. Every
  line tied to an ISPU shipping line needs a valid pickup location [doc]; the order line carries
  `pickup_location` [code; its meaning is inferred from the name]. ISPU is always sourced directly [doc].
- SFS: a store ships the parcel to the customer (Sales > Ship From Store, Generate Pick List). When
  a line is confirmed or packed OMS asks the carrier integration, synchronously, for tracking and
  labels: carrier_management.request_shipping_details -> customer_shipment_done -> updated [doc] [code].
- STS: stock is moved from a source A to the pickup store B to complete an ISPU order [doc].
- Line statuses PICKREADY, PICKCONFIRMED, PICKDECLINED and RESOURCED exist [doc] [code]. Confirming
  moves the line on (to pickup, or to packing and the carrier); that a decline makes OMS re-source or
  cancel the line is [inferred].
- The associate's clicks are screens of OMS: no public bus message carries them.

What this mock does [mock]:
- A line with a pickup_location (a source of type Store) is sourced at once to that store when it
  has the unit available. Otherwise it is shipped to the store: the unit is held at the first other
  source of the order's aggregate that has it, the line is ALLOCATEDSHIP/SHIPMENTCREATED, and
  `receive_transfer` moves the unit from that source to the store. With no stock anywhere the line
  goes to the store anyway, for the associate to decline.
- Shipment requests for a pickup store, or for a store whose store fulfilment is switched on
  (`set_store_fulfilment`), are handled in the In-Store Interface: no request_shipment is sent; the
  lines become PICKREADY and appear on the store's pick list. Other stores keep receiving
  request_shipment like a warehouse (a store running its own system).
- `pick` stands in for the associate confirming or declining lines. Confirm: PICKCONFIRMED.
  Decline: PICKDECLINED, then a pickup line is shipped to the store from another source that has the
  unit (STS), a ship-from-store line is re-sourced to another source of the aggregate that has it
  (RESOURCED, with a request_shipment if that source is not an in-store one); with no such source
  the line is CANCELLED/OUTOFSTOCK.
- `collect` (ISPU: the customer takes the goods) and `ship_packed` (SFS: the parcel leaves with the
  carrier's tracking) mark the lines SHIPPED, take the units off the store's shelf, and send
  customer_shipment_done then order_management.updated. `packing` builds the carrier request.
- Line status reasons for the store steps are not public: the mock repeats the status.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from momlab.bus import stock_levels as inventory
from momlab.bus.context import Context
from momlab.bus.flows import orders, view
from momlab.bus.flows.fulfillment import SHIPMENT_DONE, publish_progress, settle_request, shipment_document
from momlab.bus.flows.orders import UPDATED, order_document, require_order, stored_order
from momlab.bus.flows.payments import capture_shipped
from momlab.bus.jsonrpc import CONFLICT, INVALID_PARAMS, UNKNOWN_ENTITY, Doc, RpcError
from momlab.bus.store import Store

REQUEST_SHIPPING_DETAILS = "magento.logistics.carrier_management.request_shipping_details"
PICKUP, SHIP = "PICKUP", "SHIP"
PICK_STATUSES = ("PICKREADY", "PICKCONFIRMED", "PICKDECLINED")


# -- settings -----------------------------------------------------------------------------------


def in_store(db: sqlite3.Connection, source_id: str | None) -> bool:
    return source_id is not None and db.execute("SELECT 1 FROM in_store_sources WHERE source_id = ?", (source_id,)).fetchone() is not None


def set_store_fulfilment(ctx: Context, source_id: str, enabled: bool = True) -> Doc:
    """Switch a store's ship-from-store work into the In-Store Interface (on) or back to shipment
    requests sent to the store's own system (off)."""
    _require_store(ctx.db, source_id, "source_id")
    if enabled:
        ctx.db.execute("INSERT OR IGNORE INTO in_store_sources VALUES (?)", (source_id,))
    else:
        ctx.db.execute("DELETE FROM in_store_sources WHERE source_id = ?", (source_id,))
    return {"source_id": source_id, "store_fulfilment": bool(enabled)}


# -- hooks into order create (flows/orders.py) ---------------------------------------------------


def claim_pickups(ctx: Context, order: Doc, lines: list[Doc], channel: str, aggregate_id: str) -> None:
    """Sourcing hook: pickup lines go straight to their store, or are shipped to it (STS)."""
    originals = {str(x["id"]): x for x in order["lines"]}
    order_id = str(order["id"])
    at_store: dict[str, list[Doc]] = {}
    for index, line in enumerate(lines):
        store = originals[line["line_id"]].get("pickup_location")
        if line.get("claimed") or store in (None, "") or line["product_type"] in inventory.NOT_SHIPPABLE:
            continue
        _require_store(ctx.db, store, f"$.params.order.lines[{index}].pickup_location")
        line["claimed"] = True
        ctx.db.execute(
            "INSERT INTO store_lines (order_id, line_id, kind, pickup_location) VALUES (?, ?, ?, ?)", (order_id, line["line_id"], PICKUP, store)
        )
        source = store if _has(ctx.db, store, line["sku"]) else _other_source(ctx.db, aggregate_id, line["sku"], exclude=store)
        if source is None or source == store:
            inventory.hold(ctx.db, store, line["sku"], 1)
            line.update(source_id=store, status="NEW", status_reason="ITEM_PENDING_PICKING")
            at_store.setdefault(store, []).append(line)
        else:
            _start_transfer(ctx.db, order_id, line, source)
    if at_store:
        orders.send_requests(ctx, order, channel, at_store)


def take_request(ctx: Context, request: Doc, lines: list[Doc]) -> bool:
    """Request hook: a pickup store, or a store with store fulfilment on, works the request in the
    In-Store Interface instead of receiving request_shipment."""
    order_id, source = request["order_id"], request["source_id"]
    kinds = {r["line_id"]: r["kind"] for r in ctx.db.execute("SELECT line_id, kind FROM store_lines WHERE order_id = ?", (order_id,))}
    pickup = any(kinds.get(line["line_id"]) == PICKUP for line in lines)
    if not pickup and not in_store(ctx.db, source):
        return False
    for line in lines:
        line.update(status="PICKREADY", status_reason="PICKREADY")
        if line["line_id"] not in kinds:
            ctx.db.execute("INSERT INTO store_lines (order_id, line_id, kind) VALUES (?, ?, ?)", (order_id, line["line_id"], SHIP))
    ctx.db.execute("UPDATE shipment_requests SET status = 'PICKREADY' WHERE id = ?", (request["request_id"],))
    return True


# -- the In-Store Interface ----------------------------------------------------------------------


def pick_list(db: sqlite3.Connection, source_id: str | None = None) -> list[Doc]:
    """The lines waiting to be picked (PICKREADY), per store: what Generate Pick List prints."""
    sql = (
        "SELECT ol.source_id AS store, ol.order_id, ol.request_id, ol.line_id, ol.line_number, ol.sku, ol.status, s.kind, s.pickup_location "
        "FROM order_lines ol JOIN store_lines s ON s.order_id = ol.order_id AND s.line_id = ol.line_id WHERE ol.status = 'PICKREADY'"
    )
    args: tuple[str, ...] = ()
    if source_id is not None:
        sql, args = sql + " AND ol.source_id = ?", (source_id,)
    return [dict(r) for r in db.execute(sql + " ORDER BY ol.rowid", args)]


def pick(ctx: Context, order_id: str, confirm: Iterable[Any] = (), decline: Iterable[Any] = ()) -> Doc:
    """The associate confirms the lines found on the shelf and declines the others."""
    order_id = str(order_id)
    require_order(ctx.db, order_id, "order_id")
    confirmed, declined = [str(x) for x in confirm], [str(x) for x in decline]
    if not confirmed and not declined:
        raise RpcError(INVALID_PARAMS, "Name the lines to confirm and/or decline (their order-line ids).", {"path": "confirm"})
    both = sorted(set(confirmed) & set(declined))
    if both:
        raise RpcError(INVALID_PARAMS, f"Line {both[0]} is both confirmed and declined; a picked line is one or the other.", {"path": "decline"})
    rows: dict[str, sqlite3.Row] = {}
    for key, ids in (("confirm", confirmed), ("decline", declined)):
        for index, line_id in enumerate(ids):
            row = _store_line(ctx.db, order_id, line_id, f"{key}[{index}]")
            if row["status"] != "PICKREADY":
                raise RpcError(
                    CONFLICT,
                    f"Line {line_id} is {row['status']}: only PICKREADY lines are on the pick list, and each is picked once.",
                    {"path": f"{key}[{index}]"},
                )
            if line_id in rows:
                raise RpcError(INVALID_PARAMS, f"Line {line_id} is listed twice.", {"path": f"{key}[{index}]"})
            rows[line_id] = row
    for line_id in confirmed:
        _set_line(ctx.db, order_id, line_id, "PICKCONFIRMED", "PICKCONFIRMED")
    for line_id in declined:
        _set_line(ctx.db, order_id, line_id, "PICKDECLINED", "PICKDECLINED")
    ctx.db.execute("UPDATE orders SET updated_at = ? WHERE id = ?", (ctx.now, order_id))
    ctx.publish(UPDATED, {"order": order_document(ctx.db, order_id)}, order_id)
    if declined:
        ctx.next_step()
        _after_decline(ctx, order_id, [rows[line_id] for line_id in declined])
    statuses = {r["line_id"]: r["status"] for r in ctx.db.execute("SELECT line_id, status FROM order_lines WHERE order_id = ?", (order_id,))}
    return {"order_id": order_id, "lines": {line_id: statuses[line_id] for line_id in confirmed + declined}}


def _after_decline(ctx: Context, order_id: str, declined: list[sqlite3.Row]) -> None:
    order = stored_order(ctx.db, order_id)
    channel, aggregate_id = inventory.channel_aggregate(ctx.db, ctx.db.execute("SELECT store FROM orders WHERE id = ?", (order_id,)).fetchone()[0])
    sources: set[str] = set()
    skus: set[str] = set()
    resourced: dict[str, list[Doc]] = {}
    lines = []
    for row in declined:
        line = {k: row[k] for k in ("line_id", "line_number", "sku", "product_type", "status", "status_reason", "source_id", "request_id")}
        store = row["source_id"]
        inventory.hold(ctx.db, store, line["sku"], -1)
        sources.add(store)
        skus.add(line["sku"])
        other = _other_source(ctx.db, aggregate_id, line["sku"], exclude=store)
        if row["kind"] == PICKUP and other is not None:
            _start_transfer(ctx.db, order_id, line, other)  # ship it to the pickup store
            line["request_id"] = None
        elif row["kind"] == SHIP and other is not None:
            inventory.hold(ctx.db, other, line["sku"], 1)
            line.update(source_id=other, status="NEW", status_reason="ITEM_PENDING_PICKING")
            resourced.setdefault(other, []).append(line)
        else:
            line.update(status="CANCELLED", status_reason="OUTOFSTOCK")
        if line["source_id"]:
            sources.add(line["source_id"])
        lines.append(line)
    if resourced:
        orders.send_requests(ctx, order, channel, resourced)
    for line in lines:
        if line["status"] == "NEW":  # sent to a source outside the In-Store Interface
            line.update(status="RESOURCED", status_reason="PICKDECLINED")
            ctx.db.execute("DELETE FROM store_lines WHERE order_id = ? AND line_id = ? AND kind = ?", (order_id, line["line_id"], SHIP))
    ctx.db.executemany(
        "UPDATE order_lines SET source_id = ?, request_id = ?, status = ?, status_reason = ? WHERE order_id = ? AND line_id = ?",
        [(x["source_id"], x["request_id"], x["status"], x["status_reason"], order_id, x["line_id"]) for x in lines],
    )
    for request_id in {row["request_id"] for row in declined if row["request_id"]}:
        settle_request(ctx.db, request_id)
    status, reason = publish_progress(ctx, order_id)
    inventory.publish_aggregates(ctx, sources, skus)


def collect(ctx: Context, order_id: str) -> Doc:
    """ISPU: the customer collects the confirmed pickup lines at the store."""
    order_id = str(order_id)
    require_order(ctx.db, order_id, "order_id")
    rows = _lines_of_kind(ctx.db, order_id, PICKUP)
    ready = [r for r in rows if r["status"] == "PICKCONFIRMED"]
    if not ready:
        state = ", ".join(f"{r['line_id']} {r['status']}" for r in rows) or "none"
        raise RpcError(
            CONFLICT,
            f"Order {order_id} has no pickup line ready to hand over (PICKCONFIRMED); its pickup lines: {state}. Confirm the pick first.",
            {"path": "order_id"},
        )
    shipments = []
    for request_id in dict.fromkeys(r["request_id"] for r in ready):
        request = ctx.db.execute("SELECT * FROM shipment_requests WHERE id = ?", (request_id,)).fetchone()
        shipments.append(ship_lines(ctx, request, [r for r in ready if r["request_id"] == request_id], []))
    return _finish(ctx, order_id, shipments)


def receive_transfer(ctx: Context, order_id: str) -> Doc:
    """STS: the units shipped to the pickup store arrive there and go on its pick list."""
    order_id = str(order_id)
    require_order(ctx.db, order_id, "order_id")
    rows = [r for r in _lines_of_kind(ctx.db, order_id, PICKUP) if r["transfer_from"] and r["status"] == "ALLOCATEDSHIP"]
    if not rows:
        raise RpcError(CONFLICT, f"Order {order_id} has nothing on its way to a pickup store (no ALLOCATEDSHIP pickup line).", {"path": "order_id"})
    order = stored_order(ctx.db, order_id)
    channel = ctx.db.execute("SELECT store FROM orders WHERE id = ?", (order_id,)).fetchone()[0]
    at_store: dict[str, list[Doc]] = {}
    moved: list[Doc] = []
    sources: set[str] = set()
    for row in rows:
        origin, store, sku = row["source_id"], row["pickup_location"], row["sku"]
        inventory.hold(ctx.db, origin, sku, -1)
        ctx.db.execute(
            "UPDATE source_stock SET quantity = MAX(0, quantity - 1), updated_at = ? WHERE source_id = ? AND sku = ? AND unlimited = 0",
            (ctx.now, origin, sku),
        )
        ctx.db.execute(
            "INSERT INTO source_stock (source_id, sku, quantity, unlimited, updated_at) VALUES (?, ?, 1, 0, ?) "
            "ON CONFLICT (source_id, sku) DO UPDATE SET quantity = quantity + 1, updated_at = excluded.updated_at",
            (store, sku, ctx.now),
        )
        inventory.hold(ctx.db, store, sku, 1)
        line = {k: row[k] for k in ("line_id", "line_number", "sku", "product_type", "status", "status_reason", "request_id")}
        line.update(source_id=store, status="NEW", status_reason="ITEM_PENDING_PICKING")
        at_store.setdefault(store, []).append(line)
        moved.append({"line_id": row["line_id"], "sku": sku, "from": origin, "to": store})
        sources |= {origin, store}
    orders.send_requests(ctx, order, channel, at_store)
    lines = [line for group in at_store.values() for line in group]
    ctx.db.executemany(
        "UPDATE order_lines SET source_id = ?, request_id = ?, status = ?, status_reason = ? WHERE order_id = ? AND line_id = ?",
        [(x["source_id"], x["request_id"], x["status"], x["status_reason"], order_id, x["line_id"]) for x in lines],
    )
    ctx.db.execute("UPDATE orders SET updated_at = ? WHERE id = ?", (ctx.now, order_id))
    ctx.publish(UPDATED, {"order": order_document(ctx.db, order_id)}, order_id)
    inventory.publish_aggregates(ctx, sources, [m["sku"] for m in moved])
    return {"order_id": order_id, "moved": moved}


def packing(ctx: Context, order_id: str, request_id: str | None = None, packages: Any = None) -> tuple[sqlite3.Row, list[str], Doc]:
    """SFS: the associate packs confirmed lines. Returns (request row, line ids, params of
    carrier_management.request_shipping_details) for the caller to send synchronously."""
    order_id = str(order_id)
    require_order(ctx.db, order_id, "order_id")
    confirmed = [r for r in _lines_of_kind(ctx.db, order_id, SHIP) if r["status"] == "PICKCONFIRMED"]
    requests = list(dict.fromkeys(r["request_id"] for r in confirmed))
    if request_id is None:
        if not requests:
            raise RpcError(CONFLICT, f"Order {order_id} has no ship-from-store line confirmed (PICKCONFIRMED) to pack. Confirm the pick first.", {"path": "order_id"})
        if len(requests) > 1:
            raise RpcError(INVALID_PARAMS, f"Order {order_id} has confirmed lines in several stores' requests ({', '.join(requests)}); name the request_id to pack.", {"path": "request_id"})
        request_id = requests[0]
    elif str(request_id) not in requests:
        raise RpcError(CONFLICT, f"Request {request_id!r} has no confirmed ship-from-store line of order {order_id} to pack.", {"path": "request_id"})
    request = ctx.db.execute("SELECT * FROM shipment_requests WHERE id = ?", (str(request_id),)).fetchone()
    ready = {r["line_id"]: r for r in confirmed if r["request_id"] == request["id"]}
    packages = _packages(request["id"], ready, packages)
    sent = json.loads(request["body"])
    items_by_id = {item["order_line_id"]: item for item in sent["items"]}
    line_ids = [line_id for package in packages for line_id in package["items"]]
    items = [{**items_by_id[line_id], "status": "PICKCONFIRMED", "status_reason": "PICKCONFIRMED"} for line_id in line_ids]
    method = next((x["sku"] for x in stored_order(ctx.db, order_id)["lines"] if orders.line_type(x) == "SHIPPING"), "")
    params = {
        "shipment": {
            "store_id": sent["sales_channel"],
            "order_id": order_id,
            "source_id": request["source_id"],
            "method": method,
            "items": items,
            "address": sent.get("shipping_address") or {},
            "packages": packages,
        }
    }
    return request, line_ids, params


def merge_tracking(packages: list[Doc], answer: Any) -> list[Doc]:
    """The packages with the carrier's answer (one entry per package, matched by id or by position)
    filled in; RpcError when the answer does not fit."""
    if not isinstance(answer, list) or len(answer) != len(packages):
        count = len(answer) if isinstance(answer, list) else "no list"
        raise RpcError(INVALID_PARAMS, f"The carrier must answer with a list of {len(packages)} package(s) (carrier, tracking_number, tracking_link); it gave {count}.", {"path": "$.result"})
    by_id = {a.get("id"): a for a in answer if isinstance(a, dict) and a.get("id")}
    merged = []
    for index, package in enumerate(packages):
        given = by_id.get(package["id"]) or answer[index]
        for key in ("carrier", "tracking_number", "tracking_link"):
            if not isinstance(given, dict) or not isinstance(given.get(key), str) or not given[key]:
                raise RpcError(INVALID_PARAMS, f"The carrier's answer for package {package['id']} lacks {key}.", {"path": f"$.result[{index}].{key}"})
        merged.append({**package, **{k: given[k] for k in ("carrier", "tracking_number", "tracking_link", "tracking_comment") if given.get(k) is not None}})
    return merged


def ship_packed(ctx: Context, request_id: str, line_ids: list[str], packages: list[Doc]) -> Doc:
    """SFS: the parcel leaves the store with the carrier's tracking."""
    request = ctx.db.execute("SELECT * FROM shipment_requests WHERE id = ?", (request_id,)).fetchone()
    order_id = request["order_id"]
    rows = [r for r in _lines_of_kind(ctx.db, order_id, SHIP) if r["line_id"] in line_ids]
    if len(rows) != len(line_ids) or any(r["status"] != "PICKCONFIRMED" for r in rows):
        raise RpcError(CONFLICT, "The packed lines changed while the carrier answered; pack again.", {"path": "order_id"})
    return _finish(ctx, order_id, [ship_lines(ctx, request, rows, packages)])


def ship_lines(ctx: Context, request: sqlite3.Row, rows: list[sqlite3.Row], packages: list[Doc]) -> Doc:
    """Mark lines SHIPPED from the request's store, take the units off its shelf, send customer_shipment_done."""
    order_id = request["order_id"]
    for row in rows:
        _set_line(ctx.db, order_id, row["line_id"], "SHIPPED", "OSREPORT")
        inventory.hold(ctx.db, request["source_id"], row["sku"], -1)
        ctx.db.execute(
            "UPDATE source_stock SET quantity = MAX(0, quantity - 1), updated_at = ? WHERE source_id = ? AND sku = ? AND unlimited = 0",
            (ctx.now, request["source_id"], row["sku"]),
        )
    count = ctx.db.execute("SELECT COUNT(*) FROM shipments WHERE request_id = ?", (request["id"],)).fetchone()[0]
    shipment_id = f"{request['id']}-S{count + 1}"
    shipment = shipment_document(ctx, request, shipment_id, rows, {"packages": packages})
    ctx.db.execute("INSERT INTO shipments VALUES (?, ?, ?, ?, ?)", (shipment_id, request["id"], order_id, json.dumps(shipment), ctx.now))
    settle_request(ctx.db, request["id"])
    ctx.next_step()
    ctx.publish(SHIPMENT_DONE, {"shipment": shipment}, order_id)
    capture_shipped(ctx, {}, {"order_id": order_id, "lines": [r["line_id"] for r in rows]})  # as for a warehouse's lines_shipped
    return {"shipment_id": shipment_id, "source_id": request["source_id"], "lines": [r["line_id"] for r in rows], "packages": packages}


def _finish(ctx: Context, order_id: str, shipments: list[Doc]) -> Doc:
    status, reason = publish_progress(ctx, order_id)
    return {"order_id": order_id, "order_status": status, "order_status_reason": reason, "shipments": shipments}


# -- helpers ------------------------------------------------------------------------------------


def _packages(request_id: str, ready: dict[str, sqlite3.Row], packages: Any) -> list[Doc]:
    """Complete package documents: given ones checked and filled in, else one box for every line."""
    if packages is None:
        packages = [{"items": list(ready)}]
    if not isinstance(packages, list) or not packages:
        raise RpcError(INVALID_PARAMS, "packages must be a non-empty list of {'items': [order-line ids], 'details': {...}}.", {"path": "packages"})
    seen, out = set(), []
    for p, package in enumerate(packages):
        items = package.get("items") if isinstance(package, dict) else None
        if not isinstance(items, list) or not items:
            raise RpcError(INVALID_PARAMS, "Each package needs `items`: the order-line ids packed in it.", {"path": f"packages[{p}].items"})
        groups: dict[str, Doc] = {}
        for i, line_id in enumerate(str(x) for x in items):
            if line_id not in ready:
                raise RpcError(INVALID_PARAMS, f"Line {line_id} is not a confirmed line of request {request_id}; confirmed: {', '.join(ready) or 'none'}.", {"path": f"packages[{p}].items[{i}]"})
            if line_id in seen:
                raise RpcError(INVALID_PARAMS, f"Line {line_id} is in two packages.", {"path": f"packages[{p}].items[{i}]"})
            seen.add(line_id)
            sku = ready[line_id]["sku"]
            group = groups.setdefault(sku, {"aggregated_line_id": line_id, "sku": sku, "quantity": 0, "order_lines": []})
            group["quantity"] += 1
            group["order_lines"].append(line_id)
        out.append({
            "id": str(package.get("id") or f"{request_id}-P{p + 1}"),
            "details": package.get("details") or {"name": "BOX-M"},
            "items": [str(x) for x in items],
            "aggregated_items": list(groups.values()),
            "carrier": "",
            "tracking_number": "",
            "tracking_link": "",
            "tracking_comment": "",
        })
    return out


def _require_store(db: sqlite3.Connection, source_id: Any, path: str) -> None:
    row = db.execute("SELECT type FROM sources WHERE id = ?", (source_id,)).fetchone() if isinstance(source_id, str) else None
    stores = [r[0] for r in db.execute("SELECT id FROM sources WHERE type = 'Store' ORDER BY id")]
    if row is None:
        raise RpcError(UNKNOWN_ENTITY, f"{source_id!r} is not a source in OMS. Pickup locations and store fulfilment are store sources: {', '.join(stores) or 'none'}.", {"path": path})
    if row["type"] != "Store":
        raise RpcError(INVALID_PARAMS, f"{source_id} is a {row['type']}, not a store. Stores: {', '.join(stores) or 'none'}.", {"path": path})


def _has(db: sqlite3.Connection, source: str, sku: str) -> bool:
    quantity, unlimited = inventory.available(db, [source], sku)
    return unlimited or quantity >= 1


def _other_source(db: sqlite3.Connection, aggregate_id: str, sku: str, exclude: str) -> str | None:
    """The first source of the aggregate (by priority), other than `exclude`, with the unit available."""
    return next((s for s in inventory.sources_of(db, aggregate_id) if s != exclude and _has(db, s, sku)), None)


def _start_transfer(db: sqlite3.Connection, order_id: str, line: Doc, origin: str) -> None:
    inventory.hold(db, origin, line["sku"], 1)
    line.update(source_id=origin, status="ALLOCATEDSHIP", status_reason="SHIPMENTCREATED")
    db.execute("UPDATE store_lines SET transfer_from = ? WHERE order_id = ? AND line_id = ?", (origin, order_id, line["line_id"]))


_LINES_OF_KIND = (
    "SELECT ol.*, s.kind, s.pickup_location, s.transfer_from FROM order_lines ol JOIN store_lines s "
    "ON s.order_id = ol.order_id AND s.line_id = ol.line_id WHERE ol.order_id = ? AND s.kind = ? ORDER BY ol.rowid"
)


def _lines_of_kind(db: sqlite3.Connection, order_id: str, kind: str) -> list[sqlite3.Row]:
    return db.execute(_LINES_OF_KIND, (order_id, kind)).fetchall()


def _store_line(db: sqlite3.Connection, order_id: str, line_id: str, path: str) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute(
        "SELECT ol.*, s.kind, s.pickup_location, s.transfer_from FROM order_lines ol LEFT JOIN store_lines s "
        "ON s.order_id = ol.order_id AND s.line_id = ol.line_id WHERE ol.order_id = ? AND ol.line_id = ?",
        (order_id, line_id),
    ).fetchone()
    if row is None:
        known = [r[0] for r in db.execute("SELECT line_id FROM order_lines WHERE order_id = ? ORDER BY rowid", (order_id,))]
        raise RpcError(INVALID_PARAMS, f"Order {order_id} has no line {line_id!r}. Its line ids: {', '.join(known)}.", {"path": path})
    if row["kind"] is None or not (row["kind"] == PICKUP or in_store(db, row["source_id"])):
        raise RpcError(CONFLICT, f"Line {line_id} is not picked in a store's In-Store Interface (it is at {row['source_id'] or 'no source'}).", {"path": path})
    return row


def _set_line(db: sqlite3.Connection, order_id: str, line_id: str, status: str, reason: str) -> None:
    db.execute("UPDATE order_lines SET status = ?, status_reason = ? WHERE order_id = ? AND line_id = ?", (status, reason, order_id, line_id))


@view("store_lines")
def store_lines_view(store: Store, query: Mapping[str, str]) -> list[Doc]:
    """State view `store_lines`: the order lines worked in stores, with their current status."""
    sql = (
        "SELECT s.order_id, s.line_id, s.kind, s.pickup_location, s.transfer_from, ol.sku, ol.source_id, ol.request_id, ol.status, ol.status_reason "
        "FROM store_lines s JOIN order_lines ol ON ol.order_id = s.order_id AND ol.line_id = s.line_id"
    )
    args: tuple[str, ...] = ()
    if query.get("order_id"):
        sql, args = sql + " WHERE s.order_id = ?", (query["order_id"],)
    return [dict(r) for r in store.query(sql + " ORDER BY ol.rowid", args)]

orders.SOURCING_HOOKS.append(claim_pickups)
orders.REQUEST_HOOKS.append(take_request)
