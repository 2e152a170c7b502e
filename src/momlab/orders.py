"""Build complete `magento.sales.order_management.create` params from a few facts.

The shape follows the public example order (mom-examples, mom-reference.md 3.1): addresses and a
payment referenced by the lines, one line per unit, and the shipping method as a line of type
SHIPPING whose sku is the method.

    params = momlab.orders.order_params("100000042", ["TEE-ORG-S", "MUG-ENAMEL"], store="WEB-US")
"""

from __future__ import annotations

from momlab import data

ADDRESS = {
    "reference": "addr-1",
    "address_type": "customer",
    "first_name": "Ada",
    "last_name": "Byron",
    "address1": "1 Analytical Way",
    "address2": "",
    "city": "Springfield",
    "state": "OR",
    "zip": "97477",
    "country_code": "US",
    "phone": "5550100",
    "email": "ada@example.com",
}


def order_params(order_id: str, skus: list[str], store: str | None = "WEB-US", shipping: str = "STANDARD", currency: str = "USD") -> dict:
    """params for order create: one line per unit in `skus` (repeat a SKU for two units), plus the
    shipping line. Prices come from data/products.csv (0 for a SKU the catalog does not know)."""
    prices = {row["sku"]: float(row["price"]) for row in data.rows("products")}
    lines = [_line(str(n), n, sku, prices.get(sku, 0.0), "PHYSICAL", currency) for n, sku in enumerate(skus, start=1)]
    lines.append(_line("SHIPPING", len(skus) + 1, shipping, prices.get(shipping, 0.0), "SHIPPING", currency, name="Shipping"))
    total = sum(line["amount"]["gross_amount"] for line in lines)
    return {
        "order": {
            "id": order_id,
            "store": store,
            "status": None,
            "status_reason": None,
            "language": "en_US",
            "origin": "FRONTEND",
            "origin_date": "2026-11-27T09:00:00+00:00",
            "customer": {"id": "anonymous", "type": "GUEST", "segment": "B2C"},
            "addresses": [ADDRESS],
            "payments": [
                {
                    "reference": "pay-1",
                    "currency": currency,
                    "transactions": [
                        {
                            "payment_method": "ZEROPAY",
                            "payment_submethod": "ZEROPAY",
                            "amount": total,
                            "gateway_information": {"gateway_id": "OFFLINE", "authorization_status": "AUTHORIZED", "custom_attributes": []},
                            "billing_address_reference": ADDRESS["reference"],
                        }
                    ],
                }
            ],
            "lines": lines,
        }
    }


def _line(line_id: str, number: int, sku: str, price: float, kind: str, currency: str, name: str | None = None) -> dict:
    return {
        "id": line_id,
        "line_number": number,
        "product_type": kind,
        "sku": sku,
        "product_name": name or sku,
        "shipping_address_reference": ADDRESS["reference"],
        "payment_reference": "pay-1",
        "amount": {
            "net_amount": price,
            "gross_amount": price,
            "tax_amount": 0,
            "tax_rate": 0,
            "taxes": [{"type": "NO TAX", "amount": 0, "rate": 0}],
            "currency": currency,
        },
        "status": None,
    }


def return_params(order_id: str, lines: list, reason: str = "OTHER", reason_description: str = "", sales_channel_id: str | None = None, user: str = "customer") -> dict:
    """params for return_management.authorize: `lines` are order-line ids, or dicts with `id` /
    `line_number` (and optionally `sku`, `reason`, `reason_description`)."""
    built = []
    for line in lines:
        entry = {"id": str(line)} if not isinstance(line, dict) else dict(line)
        entry.setdefault("reason", reason)
        entry.setdefault("reason_description", reason_description)
        built.append(entry)
    params = {"return": {"order_id": str(order_id), "user": user, "lines": built}}
    if sales_channel_id is not None:
        params["return"]["sales_channel_id"] = sales_channel_id
    return params
