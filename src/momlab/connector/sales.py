"""Orders on the Commerce side: placing one, sending it to OMS, and what OMS sends back about it.

- An order placed on a website is sent as `magento.sales.order_management.create`, with the
  website's sales channel id in `order.store` (mom-reference.md 3.1, 5.8). Order and line custom
  attributes travel as `custom_attributes: [{name, value}]` [code]; Commerce's payment method code
  rides in the payment's `mdc_gateway_processor` attribute, as in the public example [code].
- `magento.sales.order_management.updated` brings OMS's order and line statuses [doc]. Once an order
  is sent, its status is OMS's to change [doc: connector architecture].
- `magento.logistics.fulfillment_management.customer_shipment_done` creates the Commerce shipment,
  with the packages' tracking numbers [code: mom-mock "Complete Shipment"]. That the same message
  also creates the invoice for the shipped lines is the best reading of the evidence, not a
  documented fact [inferred] (mom-reference.md 5.9, 7.5); momlab models it that way.
"""

from __future__ import annotations

import json

from momlab import orders as mom_orders
from momlab.connector.errors import ConfigError, HandlerError

PAYMENT_METHOD = "checkmo"  # the public example order's Commerce payment method (check / money order)


def place(db, now: float, website: str, skus: list[str], increment_id: str, shipping: str = "STANDARD",
          attributes: dict | None = None, line_attributes: dict | None = None) -> dict:
    """Store a new order; return it as the store holds it (what plugins on sales.order_create get)."""
    site = db.execute("SELECT code, sales_channel_id FROM store_website WHERE code = ?", (website,)).fetchone()
    if site is None:
        known = [r[0] for r in db.execute("SELECT code FROM store_website ORDER BY code")]
        raise ConfigError(f"There is no website {website!r}. Websites: {', '.join(known)}.")
    if not site["sales_channel_id"]:
        raise ConfigError(f"Website {website!r} has no OMS sales channel configured, so its orders cannot be sent to OMS. "
                          "Set the website's sales channel id (the channel's External ID in OMS).")
    if not skus:
        raise ValueError("An order needs at least one SKU.")
    if db.execute("SELECT 1 FROM sales_order WHERE increment_id = ?", (increment_id,)).fetchone():
        raise ValueError(f"The store already has an order {increment_id!r}.")
    items = []
    for number, sku in enumerate(skus, start=1):
        product = db.execute("SELECT sku, name, type, price FROM catalog_product WHERE sku = ?", (sku,)).fetchone()
        if product is None:
            raise ValueError(f"The catalog has no product {sku!r}.")
        if product["type"] == "SHIPPING":
            raise ValueError(f"{sku!r} is a shipping method; pass it as shipping=, not as an item.")
        items.append({"line_id": str(number), "line_number": number, "sku": sku, "name": product["name"], "product_type": product["type"],
                      "price": product["price"], "custom_attributes": dict((line_attributes or {}).get(sku, {}))})
    method = db.execute("SELECT sku, name, price FROM catalog_product WHERE sku = ? AND type = 'SHIPPING'", (shipping,)).fetchone()
    if method is None:
        methods = [r[0] for r in db.execute("SELECT sku FROM catalog_product WHERE type = 'SHIPPING' ORDER BY sku")]
        raise ValueError(f"{shipping!r} is not a shipping method of the store. Shipping methods: {', '.join(methods)}.")
    order = {
        "increment_id": increment_id,
        "website": website,
        "sales_channel_id": site["sales_channel_id"],
        "customer": {"id": "anonymous", "type": "GUEST", "segment": "B2C"},
        "address": dict(mom_orders.ADDRESS),
        "payment_method": PAYMENT_METHOD,
        "shipping": {"sku": method["sku"], "name": method["name"], "price": method["price"]},
        "items": items,
        "custom_attributes": dict(attributes or {}),
    }
    db.execute("INSERT INTO sales_order VALUES (?, ?, ?, NULL, NULL, ?, ?, ?)",
               (increment_id, website, site["sales_channel_id"], json.dumps(order), now, now))
    db.executemany(
        "INSERT INTO sales_order_item (order_id, line_id, line_number, sku, product_type, price) VALUES (?, ?, ?, ?, ?, ?)",
        [(increment_id, i["line_id"], i["line_number"], i["sku"], i["product_type"], i["price"]) for i in items],
    )
    return order


def load(db, increment_id: str) -> dict:
    row = db.execute("SELECT body FROM sales_order WHERE increment_id = ?", (increment_id,)).fetchone()
    if row is None:
        raise LookupError(f"The store has no order {increment_id!r}.")
    return json.loads(row["body"])


def build_create(order: dict) -> dict:
    """The params of magento.sales.order_management.create for a store order (mom-reference.md 3.1)."""
    currency = "USD"
    address = order["address"]
    lines = []
    for item in order["items"]:
        lines.append(_line(item["line_id"], item["line_number"], item["product_type"], item["sku"], item["name"], item["price"], currency,
                           address["reference"], item.get("custom_attributes") or {}))
    shipping = order["shipping"]
    lines.append(_line("SHIPPING", len(order["items"]) + 1, "SHIPPING", shipping["sku"], shipping["name"], shipping["price"], currency,
                       address["reference"], {}))
    total = round(sum(line["amount"]["gross_amount"] for line in lines), 2)
    return {
        "order": {
            "id": order["increment_id"],
            "store": order["sales_channel_id"],
            "status": None,
            "status_reason": None,
            "language": "en_US",
            "origin": "FRONTEND",
            "customer": dict(order["customer"]),
            "addresses": [dict(address)],
            "payments": [{
                "reference": "pay-1",
                "currency": currency,
                "transactions": [{
                    "payment_method": "ZEROPAY",
                    "payment_submethod": "ZEROPAY",
                    "amount": total,
                    "gateway_information": {
                        "gateway_id": "OFFLINE",
                        "authorization_status": "AUTHORIZED",
                        "custom_attributes": [{"attribute_code": "mdc_gateway_processor", "value": order["payment_method"], "name": "mdc_gateway_processor"}],
                    },
                    "billing_address_reference": address["reference"],
                }],
            }],
            "lines": lines,
            "custom_attributes": [{"name": key, "value": value} for key, value in (order.get("custom_attributes") or {}).items()],
        }
    }


def _line(line_id, number, kind, sku, name, price, currency, address_reference, attributes: dict) -> dict:
    return {
        "id": str(line_id),
        "line_number": number,
        "product_type": kind,
        "sku": sku,
        "product_name": name,
        "shipping_address_reference": address_reference,
        "payment_reference": "pay-1",
        "amount": {"net_amount": price, "gross_amount": price, "tax_amount": 0, "tax_rate": 0,
                   "taxes": [{"type": "NO TAX", "amount": 0, "rate": 0}], "currency": currency},
        "status": None,
        "custom_attributes": [{"name": key, "value": value} for key, value in attributes.items()],
    }


# -- what OMS sends back --------------------------------------------------------------------------


def on_order_updated(ctx, params: dict) -> dict:
    order = params["order"]
    order_id = str(order["id"])
    _require(ctx.db, order_id)
    ctx.db.execute("UPDATE sales_order SET mom_status = ?, mom_status_reason = ?, updated_at = ? WHERE increment_id = ?",
                   (order.get("status"), order.get("status_reason"), ctx.now, order_id))
    lines = 0
    for line in order.get("lines") or []:
        lines += ctx.db.execute("UPDATE sales_order_item SET mom_status = ?, mom_status_reason = ? WHERE order_id = ? AND line_id = ?",
                                (line.get("status"), line.get("status_reason"), order_id, str(line.get("id")))).rowcount
    return {"order_id": order_id, "status": order.get("status"), "status_reason": order.get("status_reason"), "lines": lines}


def on_shipment_done(ctx, params: dict) -> dict:
    shipment = params["shipment"]
    order_id = str(shipment["order_id"])
    _require(ctx.db, order_id)
    mom_id = shipment.get("shipment_id") or None
    if mom_id is not None:
        row = ctx.db.execute("SELECT id FROM sales_shipment WHERE mom_shipment_id = ?", (mom_id,)).fetchone()
        if row is not None:
            return {"order_id": order_id, "shipment_id": row["id"], "duplicate": True}
    items = []
    for index, item in enumerate(shipment["items"]):
        found = _item(ctx.db, order_id, item)
        if found is None:
            raise HandlerError(f"Order {order_id} has no line {item.get('order_line_id', item.get('order_line_number'))!r} "
                               f"(shipment.items[{index}]); the shipment was not created.")
        items.append(found)
    cursor = ctx.db.execute("INSERT INTO sales_shipment (order_id, mom_shipment_id, source_id, created_at) VALUES (?, ?, ?, ?)",
                            (order_id, mom_id, shipment.get("source_id"), ctx.now))
    shipment_id = cursor.lastrowid
    ctx.db.executemany("INSERT INTO sales_shipment_item VALUES (?, ?, ?)", [(shipment_id, i["line_id"], i["sku"]) for i in items])
    tracks = [{"carrier": p.get("carrier"), "tracking_number": p.get("tracking_number"), "tracking_link": p.get("tracking_link")}
              for p in shipment.get("packages") or [] if isinstance(p, dict) and p.get("tracking_number")]
    ctx.db.executemany("INSERT INTO sales_shipment_track VALUES (?, ?, ?, ?)",
                       [(shipment_id, t["carrier"], t["tracking_number"], t["tracking_link"]) for t in tracks])
    ctx.db.executemany("UPDATE sales_order_item SET qty_shipped = qty_shipped + 1 WHERE order_id = ? AND line_id = ?",
                       [(order_id, i["line_id"]) for i in items])
    ctx.dispatch("mcom_shipment_created", order_id=order_id, shipment_id=shipment_id, mom_shipment_id=mom_id,
                 items=[{"line_id": i["line_id"], "sku": i["sku"]} for i in items], tracks=tracks)
    invoice_id = _invoice(ctx, order_id, mom_id, items)
    return {"order_id": order_id, "shipment_id": shipment_id, "invoice_id": invoice_id, "lines": [i["line_id"] for i in items]}


def _invoice(ctx, order_id: str, mom_shipment_id, items: list) -> int | None:
    """Invoice the shipped lines not invoiced yet [inferred]."""
    due = [i for i in items if i["qty_invoiced"] < i["qty_shipped"] + 1]
    if not due:
        return None
    total = round(sum(i["price"] for i in due), 2)
    cursor = ctx.db.execute("INSERT INTO sales_invoice (order_id, mom_shipment_id, grand_total, created_at) VALUES (?, ?, ?, ?)",
                            (order_id, mom_shipment_id, total, ctx.now))
    invoice_id = cursor.lastrowid
    ctx.db.executemany("INSERT INTO sales_invoice_item VALUES (?, ?, ?, ?)", [(invoice_id, i["line_id"], i["sku"], i["price"]) for i in due])
    ctx.db.executemany("UPDATE sales_order_item SET qty_invoiced = qty_invoiced + 1 WHERE order_id = ? AND line_id = ?",
                       [(order_id, i["line_id"]) for i in due])
    ctx.dispatch("mcom_invoice_created", order_id=order_id, invoice_id=invoice_id,
                 items=[{"line_id": i["line_id"], "sku": i["sku"], "amount": i["price"]} for i in due], grand_total=total)
    return invoice_id


def _item(db, order_id: str, item: dict):
    if item.get("order_line_id") is not None:
        row = db.execute("SELECT * FROM sales_order_item WHERE order_id = ? AND line_id = ?", (order_id, str(item["order_line_id"]))).fetchone()
    elif item.get("order_line_number") is not None:
        row = db.execute("SELECT * FROM sales_order_item WHERE order_id = ? AND line_number = ?", (order_id, int(item["order_line_number"]))).fetchone()
    else:
        row = None
    return None if row is None else dict(row)


def _require(db, order_id: str) -> None:
    if db.execute("SELECT 1 FROM sales_order WHERE increment_id = ?", (order_id,)).fetchone() is None:
        raise HandlerError(f"This store has no order {order_id!r}: the message is about an order placed elsewhere (another store, "
                           "or a test order sent straight to OMS).")
