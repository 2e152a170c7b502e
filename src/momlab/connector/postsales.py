"""Returns and refunds on the Commerce side.

- `magento.postsales.return_management.updated` carries an RMA's status changes [mock: mom-mock
  template]; the connector keeps the RMA's status.
- `magento.postsales.refund_management.updated` makes the connector create a credit memo
  [mock: mom-mock README, "Creates a creditmemo"]. Commerce creates a credit memo only against an
  invoiced order, so the invoice must exist first: one of the clues that OMS's
  customer_shipment_done also creates the invoice (mom-reference.md 7.5, [inferred]).
"""

from __future__ import annotations

from momlab.connector.errors import HandlerError


def on_return_updated(ctx, params: dict) -> dict:
    rma = params["return"]
    order_id = str(rma["order_id"])
    status = rma["status"].get("code") if isinstance(rma.get("status"), dict) else rma.get("status")
    ctx.db.execute("INSERT INTO magento_rma VALUES (?, ?, ?, ?) ON CONFLICT (rma) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
                   (str(rma["rma"]), order_id, str(status), ctx.now))
    return {"rma": str(rma["rma"]), "order_id": order_id, "status": status}


def on_refund_updated(ctx, params: dict) -> dict:
    refund = params["refund"]
    order_id = str(refund["order_id"])
    if ctx.db.execute("SELECT 1 FROM sales_order WHERE increment_id = ?", (order_id,)).fetchone() is None:
        raise HandlerError(f"This store has no order {order_id!r}, so there is nothing to refund.")
    if ctx.db.execute("SELECT 1 FROM sales_invoice WHERE order_id = ?", (order_id,)).fetchone() is None:
        raise HandlerError(f"Order {order_id} has no invoice yet. Commerce creates a credit memo only against an invoiced order; "
                           "retry this message once the order is invoiced (after its customer_shipment_done).")
    number = refund.get("credit_note_number")
    if number and ctx.db.execute("SELECT id FROM sales_creditmemo WHERE credit_note_number = ?", (number,)).fetchone():
        return {"order_id": order_id, "credit_note_number": number, "duplicate": True}
    total = 0.0
    for line in refund["lines"]:
        item = ctx.db.execute("SELECT line_id, price FROM sales_order_item WHERE order_id = ? AND line_id = ?",
                              (order_id, str(line.get("order_item_id")))).fetchone()
        amount = _paid_back(line)
        if amount is None and item is not None:
            amount = item["price"]
        total += amount or 0.0
        if item is not None:
            ctx.db.execute("UPDATE sales_order_item SET qty_refunded = qty_refunded + 1 WHERE order_id = ? AND line_id = ?", (order_id, item["line_id"]))
    total = round(total, 2)
    cursor = ctx.db.execute("INSERT INTO sales_creditmemo (order_id, credit_note_number, grand_total, created_at) VALUES (?, ?, ?, ?)",
                            (order_id, number, total, ctx.now))
    ctx.dispatch("mcom_creditmemo_created", order_id=order_id, creditmemo_id=cursor.lastrowid, grand_total=total)
    return {"order_id": order_id, "creditmemo_id": cursor.lastrowid, "grand_total": total}


def _paid_back(line: dict) -> float | None:
    total, found = 0.0, False
    for payment in line.get("payments") or []:
        details = payment.get("details") if isinstance(payment, dict) else None
        value = details.get("cost_gross") if isinstance(details, dict) else None
        try:
            total += float(value)
            found = True
        except (TypeError, ValueError):
            continue
    return total if found else None
