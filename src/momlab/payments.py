"""Orders paid by card, as a sales channel sends them to OMS: the store authorised the card at
checkout and the result travels inside the order, in `order.payments[].transactions[].gateway_information`
[doc]. What OMS then sends the payment integration is built in momlab.bus.payment_messages.

    params = card_order_params("100000042", ["TEE-ORG-S"], gateway="acmepay")
"""

from __future__ import annotations

from momlab import orders


def card_order_params(order_id: str, skus: list[str], store: str | None = "WEB-US", gateway: str = "acmepay",
                      transaction_id: str | None = None, card: str = "VISA", **kwargs) -> dict:
    """Order create params (momlab.orders.order_params) paid by card through `gateway`: the shape of
    an order whose payment the store authorised at checkout."""
    params = orders.order_params(order_id, skus, store=store, **kwargs)
    transaction = params["order"]["payments"][0]["transactions"][0]
    transaction.update(payment_method="CREDITCARD", payment_submethod=card)
    transaction["gateway_information"] = {
        "gateway_id": gateway,
        "account": f"{gateway}-merchant",
        "transaction_id": transaction_id or f"AUTH-{order_id}",
        "authorization_status": "AUTHORIZED",
        "custom_attributes": [],
    }
    return params
