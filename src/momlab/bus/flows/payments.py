"""Payment commands OMS sends, and the notifications that come back (mom-reference.md 3 rows 25-30, 7.1).

What the sources say [doc]: the payment integration is a remote subscribed to the commands of
`magento.payments.payments_management` (validate, revalidate, capture; refund and cancel are seen
in code). Every command is asynchronous: the integration acknowledges it with an empty result and
reports the outcome later, in a *notification* it sends to OMS's delegate URL. The notifications'
topic names are not public.

What this mock does [mock]:
- After an order is created, OMS sends `validate` for each of the order's payment transactions
  (operation_reference `<order>-validate-<n>`), for the lines that payment pays.
- After lines ship (`lines_shipped`), OMS sends `capture` for the shipped lines, per payment; the
  first capture of a payment also carries its lines that never ship (the shipping line), so the
  captures of a fully shipped order add up to the order total (`<order>-capture-<n>`).
- Both only when a remote subscribes to the command and the payment has a gateway: an order paid
  OFFLINE (the course's default ZEROPAY orders) has nothing to validate or capture.
- Any method that starts with `magento.payments.` and that the catalog does not know is taken on
  POST /delegate/oms as a notification: journaled, acknowledged, and recorded against its order and
  operation (`payment.order_id` and `payment.operation_reference`, or the same names at the top of
  params). The mock does not act on it: what real OMS does with each outcome is not public.
- State view `payments`: one row per command sent (from the journal) with the notification that
  answered it, if any; and one row per notification that matched no command.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from typing import Any

from momlab.bus import journal
from momlab.bus import payment_messages as payments
from momlab.bus.context import Context
from momlab.bus.flows import after, handles_prefix, view
from momlab.bus.flows.orders import stored_order
from momlab.bus.jsonrpc import Doc
from momlab.bus.store import Store
from momlab.bus.timestamps import iso_millis

VALIDATE = payments.TOPIC + "validate"
CAPTURE = payments.TOPIC + "capture"
NOTIFICATION_PREFIX = "magento.payments."


@after("magento.sales.order_management.create")
def validate_new_order(ctx: Context, params: Doc, result: Doc) -> None:
    if not ctx.subscribers(VALIDATE):
        return
    order = params["order"]
    order_id = str(order["id"])
    number = 0
    for payment, transaction in payments.transactions(order):
        if payments.is_offline(transaction):
            continue
        number += 1
        lines = payments.paid_by(order, payment)
        amount = transaction.get("amount")
        amount = float(amount) if isinstance(amount, (int, float)) and not isinstance(amount, bool) else None
        command = payments.payment_params(order, payment, transaction, f"{order_id}-validate-{number}", lines, amount)
        ctx.publish(VALIDATE, command, order_id)


@after("magento.logistics.warehouse_management.lines_shipped")
def capture_shipped(ctx: Context, params: Doc, result: Doc) -> None:
    if not ctx.subscribers(CAPTURE) or not isinstance(result, dict):
        return
    order_id = result["order_id"]
    order = stored_order(ctx.db, order_id)
    shipped = {str(line_id) for line_id in result.get("lines") or []}
    done = _captures(ctx.db, order_id)
    for payment, transaction in payments.transactions(order):
        if payments.is_offline(transaction):
            continue
        lines = payments.paid_by(order, payment)
        first = not any(c["payment_reference"] == payment.get("reference") for c in done)
        covered = [line for line in lines if str(line["id"]) in shipped or (first and _never_ships(line))]
        if not any(str(line["id"]) in shipped for line in covered):
            continue
        reference = f"{order_id}-capture-{len(done) + 1}"
        command = payments.payment_params(order, payment, transaction, reference, covered)
        ctx.publish(CAPTURE, command, order_id)
        done.append({"payment_reference": payment.get("reference")})


@handles_prefix(NOTIFICATION_PREFIX)
def notification(ctx: Context, params: Doc) -> Doc:
    """A payment notification: names are not public, so any magento.payments.* is acknowledged."""
    payment = params.get("payment")
    if not isinstance(payment, dict):
        payment = {}
    reference = _text(payment.get("operation_reference", params.get("operation_reference")))
    order_id = _text(payment.get("order_id", params.get("order_id")))
    method = journal.method_of(ctx.db, ctx.inbound_id) if ctx.inbound_id is not None else None
    command = None
    if reference is not None:
        row = journal.sent_with_reference(ctx.db, payments.TOPIC, reference)
        if row is not None:
            command = row["method"].rsplit(".", 1)[-1]
            order_id = order_id or row["order_id"]
    known_order = order_id is not None and ctx.db.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone() is not None
    ctx.db.execute(
        "INSERT INTO payment_notifications (at, method, order_id, operation_reference, body) VALUES (?, ?, ?, ?, ?)",
        (ctx.now, method, order_id, reference, json.dumps(params)),
    )
    notes = []
    if reference is None:
        notes.append("No operation_reference: echo the one of the command this notification answers.")
    elif command is None:
        notes.append(f"No payment command was sent with operation_reference {reference!r}.")
    if order_id is not None and not known_order:
        notes.append(f"OMS has no order {order_id!r}.")
    return {"acknowledged": True, "order_id": order_id, "operation_reference": reference, "answers": command, "notes": notes}


def _never_ships(line: Doc) -> bool:
    from momlab.bus import stock_levels as inventory

    return (line.get("product_type") or "PHYSICAL").upper() in inventory.NOT_SHIPPABLE


def _captures(db: sqlite3.Connection, order_id: str) -> list[Doc]:
    rows = journal.sent_payments(db, CAPTURE, order_id)
    out = []
    for row in rows:
        payment = json.loads(row["body"])["params"]["payment"]
        order = stored_order(db, order_id)
        reference = next(
            (p.get("reference") for p, t in payments.transactions(order)
             if (t.get("gateway_information") or {}).get("transaction_id") == payment.get("gateway_key")),
            None,
        )
        out.append({"operation_reference": row["reference"], "payment_reference": reference})
    return out


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, (str, int, float)) else None


@view("payments")
def payments_view(store: Store, query: Mapping[str, str]) -> list[Doc]:
    """Every payment command OMS sent, with the notification that answered it (if any), oldest first;
    then the notifications that answered no command. Filter with order_id."""
    order_id = query.get("order_id")
    rows = journal.sent_under(store, payments.TOPIC)
    notes: dict[str, list[sqlite3.Row]] = {}
    for n in store.query("SELECT * FROM payment_notifications ORDER BY id"):
        notes.setdefault(n["operation_reference"], []).append(n)
    out: dict[str, Doc] = {}
    now = time.time()
    for row in rows:
        payment = (json.loads(row["body"]).get("params") or {}).get("payment") or {}
        reference = _text(payment.get("operation_reference")) or f"journal-{row['id']}"
        entry = out.get(reference)
        if entry is None:
            entry = out[reference] = {
                "order_id": row["order_id"],
                "operation_reference": reference,
                "command": row["method"].rsplit(".", 1)[-1],
                "amount": payment.get("amount"),
                "currency": payment.get("currency"),
                "sent_at": iso_millis(row["at"]),
                "deliveries": [],
                "notified": False,
                "notified_at": None,
                "notification": None,
                "gateway_response": None,
                "waiting_s": None,
            }
        entry["deliveries"].append(f"{row['remote'] or '-'}: {row['status']}")
        answers = notes.get(reference)
        if answers:
            last = answers[-1]
            body = json.loads(last["body"])
            entry.update(notified=True, notified_at=iso_millis(last["at"]), notification=last["method"],
                         gateway_response=((body.get("payment") or {}) if isinstance(body.get("payment"), dict) else body).get("gateway_response"))
        else:
            entry["waiting_s"] = round(now - row["at"], 1)
    result = list(out.values())
    for reference, answers in notes.items():
        if reference not in out:
            for n in answers:
                body = json.loads(n["body"])
                result.append({
                    "order_id": n["order_id"], "operation_reference": reference, "command": None, "amount": None, "currency": None,
                    "sent_at": None, "deliveries": [], "notified": True, "notified_at": iso_millis(n["at"]), "notification": n["method"],
                    "gateway_response": ((body.get("payment") or {}) if isinstance(body.get("payment"), dict) else body).get("gateway_response"),
                    "waiting_s": None,
                })
    if order_id:
        result = [r for r in result if r["order_id"] == order_id]
    return result

