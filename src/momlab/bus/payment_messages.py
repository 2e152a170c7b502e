"""Payments as OMS sees them: the `payment{}` of the payment commands, built from an order.

OMS does not authorise cards itself: the sales channel authorises at checkout and sends the result
inside the order, in `order.payments[].transactions[].gateway_information` [doc]. OMS then sends the
payment integration the commands of `magento.payments.payments_management` (validate, capture, ...)
with a `payment{}` object [doc: omsdocs payments specifications]. How OMS fills each field from the
order is not public; the mapping here is the course's reading of the field names [inferred]:

| payment field       | from the order                                         |
|---------------------|--------------------------------------------------------|
| gateway             | transaction.gateway_information.gateway_id             |
| gateway_account     | transaction.gateway_information.account                |
| gateway_key         | transaction.gateway_information.transaction_id         |
| amount, currency    | the lines the operation covers; payments[].currency    |
| method_details      | transaction.payment_method / payment_submethod         |
| lines[]             | the order lines paid by this payment (payment_reference)|

    OMS side here; the learner's builder of a card-paid order is momlab.payments.card_order_params.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

COMMANDS = ("validate", "revalidate", "capture", "refund", "cancel")
TOPIC = "magento.payments.payments_management."
OFFLINE_GATEWAYS = ("OFFLINE",)  # nothing to validate or capture: no gateway behind it [mock]


def gross(line: dict[str, Any]) -> float:
    """A line's price with tax (0 when the line has none)."""
    value = (line.get("amount") or {}).get("gross_amount") or 0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def payment_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`payment.lines[]` for order lines (one unit each, as the course's orders have them)."""
    out = []
    for line in lines:
        amount = line.get("amount") or {}
        out.append({
            "line_number": line.get("line_number"),
            "item_name": line.get("product_name") or line.get("sku"),
            "item_sku": line.get("sku"),
            "item_type": line.get("product_type") or "PHYSICAL",
            "quantity": 1,
            "unit_price_gross": gross(line),
            "tax_amount": amount.get("tax_amount") or 0,
            "tax_rate": amount.get("tax_rate") or 0,
        })
    return out


def transactions(order: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(payment, transaction) pairs of an order, in order."""
    for payment in order.get("payments") or []:
        for transaction in payment.get("transactions") or []:
            yield payment, transaction


def is_offline(transaction: dict[str, Any]) -> bool:
    info = transaction.get("gateway_information") or {}
    return not info.get("gateway_id") or info.get("gateway_id") in OFFLINE_GATEWAYS


def payment_params(order: dict[str, Any], payment: dict[str, Any], transaction: dict[str, Any], reference: str, lines: list[dict[str, Any]], amount: float | None = None) -> dict[str, Any]:
    """The params of a payments_management command for `lines` of `order`, paid by `transaction`."""
    info = transaction.get("gateway_information") or {}
    total = round(sum(gross(line) for line in lines), 2) if amount is None else amount
    return {
        "payment": {
            "gateway": info.get("gateway_id"),
            "gateway_account": info.get("account"),
            "gateway_key": info.get("transaction_id"),
            "amount": total,
            "currency": payment.get("currency"),
            "order_id": str(order["id"]),
            "operation_reference": reference,
            "lines": payment_lines(lines),
            "method_details": {"method": transaction.get("payment_method"), "submethod": transaction.get("payment_submethod")},
        }
    }


def paid_by(order: dict[str, Any], payment: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's lines that `payment` pays: those naming it, or every line when none names one."""
    lines = order.get("lines") or []
    named = [line for line in lines if line.get("payment_reference") is not None]
    if not named:
        return list(lines)
    return [line for line in lines if str(line.get("payment_reference")) == str(payment.get("reference"))]
