"""Request documents the flow tests send.

`order_params` is not momlab.orders.order_params on purpose: the flow tests assert on its fixed
shape (line ids L1, L2, ..., 10 USD a line), which does not follow the catalog's prices."""

from __future__ import annotations


def order_params(order_id: str, skus: tuple[str, ...] = ("TEE-ORG-S",), store: str | None = "WEB-US") -> dict:
    """A small, complete order: one PHYSICAL line per SKU and a STANDARD shipping line."""
    address = {"reference": "A1", "address_type": "customer", "first_name": "Ada", "last_name": "Lovelace",
               "address1": "1 Main St", "city": "Springfield", "zip": "12345", "country_code": "US",
               "email": "ada@example.com"}
    lines = [
        {"id": f"L{n}", "line_number": n, "product_type": "PHYSICAL", "sku": sku, "product_name": sku,
         "shipping_address_reference": "A1", "amount": {"gross_amount": 10, "currency": "USD"}}
        for n, sku in enumerate(skus, start=1)
    ]
    lines.append({"id": "SHIPPING", "line_number": len(skus) + 1, "product_type": "SHIPPING", "sku": "STANDARD",
                  "product_name": "Shipping", "shipping_address_reference": "A1"})
    order = {"id": order_id, "store": store, "addresses": [address], "customer": {"id": "c1", "type": "GUEST"},
             "payments": [{"reference": "P1", "currency": "USD",
                           "transactions": [{"payment_method": "ZEROPAY", "amount": 10 * len(skus),
                                             "billing_address_reference": "A1"}]}],
             "lines": lines}
    return {"order": order}


def php_literal(value) -> str:
    """A PHP literal for a Python value: null, true/false, a number, a quoted string or an array."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(php_literal(v) for v in value) + "]"
    return "[" + ", ".join(f"{php_literal(k)} => {php_literal(v)}" for k, v in value.items()) + "]"


def env_php(bus: str, **changes) -> str:
    """A Commerce app/etc/env.php whose serviceBus section points the connector at `bus`."""
    settings = {"url": bus + "/", "oauth_server_url": bus + "/", "oauth_client_id": "momlab", "oauth_client_secret": "momlab-secret",
                "application_id": "mdc", "secret": "shared-s3cret", "secure_endpoint": True, **changes}
    body = "".join(f"        '{k}' => {php_literal(v)},\n" for k, v in settings.items())
    return f"<?php\nreturn [\n    'serviceBus' => [\n{body}    ],\n];\n"
