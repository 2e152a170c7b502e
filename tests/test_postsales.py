"""Returns and refunds: return_management.authorize -> RMA (REQUESTED, APPROVED) -> credit note and payment refund."""

from __future__ import annotations

import pytest

from momlab.bus import catalog
from momlab.orders import return_params
from momlab.topics import (
    AUTHORIZE_RETURN,
    LINES_SHIPPED,
    ORDER_CREATE,
    PAYMENT_REFUND,
    REFUND_UPDATED,
    REQUEST_SHIPMENT,
    RETURN_UPDATED,
    SHIPMENT_DONE,
    UPDATED,
)
from tests.support.builders import order_params
from tests.support.mocks import deliveries, wait_for
from tests.support.rpc import post, rpc, rpc_error


@pytest.fixture
def shop(mock, start_receiver):
    """A mock with the Commerce connector (mdc) and a payment integration registered."""
    mdc = start_receiver(id="mdc", secret="mdc-secret",
                         handlers={RETURN_UPDATED: lambda p: None, REFUND_UPDATED: lambda p: None, UPDATED: lambda p: None})
    pay = start_receiver(id="payments", secret="pay-secret", handlers={PAYMENT_REFUND: lambda p: None})
    mdc.register(mock.client)
    pay.register(mock.client)
    return mock, mdc, pay


def shipped_order(mock, order_id, skus=("TEE-ORG-S", "MUG-ENAMEL"), ship=None, params=None):
    """Create an order and ship the lines `ship` (all physical lines by default)."""
    mock.client.call(ORDER_CREATE, params or order_params(order_id, skus))
    lines = [ln for ln in mock.client.state("order_lines", order_id=order_id) if ln["request_id"]]
    to_ship = [ln for ln in lines if ship is None or ln["line_id"] in ship]
    for request_id in sorted({ln["request_id"] for ln in to_ship}):
        items = [{"order_line_id": ln["line_id"]} for ln in to_ship if ln["request_id"] == request_id]
        mock.client.call(LINES_SHIPPED, {"request_id": request_id, "items": items,
                                         "packages": [{"id": "P1", "carrier": "UPS", "tracking_number": "1Z1"}]})
    return {ln["line_id"]: ln for ln in mock.client.state("order_lines", order_id=order_id)}


def received(receiver, method, count):
    wait_for(lambda: len([e for e in receiver.log if e["method"] == method]) >= count, what=f"{count} x {method} at {receiver.id}")
    return [e for e in receiver.log if e["method"] == method]


def test_return_of_a_shipped_line_is_stored_approved_and_refunded(shop):
    mock, mdc, pay = shop
    shipped_order(mock, "R-100")
    result = mock.client.call(AUTHORIZE_RETURN, return_params("R-100", ["L1"], reason="WRONG_SIZE", reason_description="too small"))
    assert result == {"rma": "R-100-R1", "order_id": "R-100", "status": "APPROVED", "lines": ["L1"],
                      "credit_note_number": "CN-R-100-1", "refund_amount": 10.0, "currency": "USD"}

    updates = received(mdc, RETURN_UPDATED, 2)
    assert [u["params"]["return"]["status"]["code"] for u in updates] == ["REQUESTED", "APPROVED"]
    last = updates[-1]["params"]["return"]
    assert last["rma"] == "R-100-R1" and last["order_id"] == "R-100" and last["sales_channel_id"] == "WEB-US"
    assert last["source_id"] == "WH-EAST"
    assert [(ln["id"], ln["sku"], ln["reason"], ln["status"]) for ln in last["lines"]] == [("L1", "TEE-ORG-S", "WRONG_SIZE", "APPROVED")]

    (refund,) = received(mdc, REFUND_UPDATED, 1)
    refund = refund["params"]["refund"]
    assert refund["credit_note_number"] == "CN-R-100-1" and refund["rma"] == "R-100-R1" and refund["refund_type"] == "Return"
    assert refund["status"]["code"] == "RELEASED"
    (line,) = refund["lines"]
    assert line["order_item_id"] == "L1" and line["payments"][0]["details"]["cost_gross"] == 10.0
    assert line["payments"][0]["status"]["code"] == "REFUNDED"

    (payment,) = received(pay, PAYMENT_REFUND, 1)
    payment = payment["params"]["payment"]
    assert payment["order_id"] == "R-100" and payment["amount"] == 10.0 and payment["currency"] == "USD"
    assert [(ln["item_sku"], ln["refund_amount"]) for ln in payment["lines"]] == [("TEE-ORG-S", 10.0)]
    assert payment["method_details"]["method"] == "ZEROPAY"
    assert all(e["signature"] == "ok" for e in mdc.log + pay.log)

    assert mock.client.state("returns")[0] | {"created_at": None, "updated_at": None} == {
        "rma": "R-100-R1", "order_id": "R-100", "sales_channel": "WEB-US", "source_id": "WH-EAST", "status": "APPROVED",
        "created_at": None, "updated_at": None}
    assert [(r["line_id"], r["status"]) for r in mock.client.state("return_lines", order_id="R-100")] == [("L1", "APPROVED")]
    (stored,) = mock.client.state("refunds", order_id="R-100")
    assert (stored["credit_note"], stored["rma"], stored["amount"], stored["currency"]) == ("CN-R-100-1", "R-100-R1", 10.0, "USD")


def test_the_messages_come_in_order_and_fit_their_schemas(shop):
    mock, mdc, pay = shop
    shipped_order(mock, "R-101")
    mock.client.call(AUTHORIZE_RETURN, return_params("R-101", ["L1", "L2"]))
    (inbound,) = mock.client.journal(method=AUTHORIZE_RETURN)
    caused = mock.client.journal(caused_by=inbound["id"])
    assert [r["method"] for r in caused] == [RETURN_UPDATED, RETURN_UPDATED, REFUND_UPDATED, PAYMENT_REFUND]
    assert all(r["order_id"] == "R-101" for r in caused)
    for row in deliveries(mock):
        assert catalog.validate(row["method"], row["body"]["params"]) == [], row["method"]
    assert mock.wait_idle()
    assert {r["status"] for r in mock.client.journal(caused_by=inbound["id"])} == {"delivered"}


def test_only_shipped_lines_can_be_returned(shop):
    mock, mdc, pay = shop
    shipped_order(mock, "R-102", ship={"L1"})
    before = len(deliveries(mock))
    error = rpc_error(post(mock, "/api", rpc(AUTHORIZE_RETURN, return_params("R-102", ["L1", "L2"]))), -32005)
    assert error["data"]["path"] == "$.params.return.lines[1]"
    assert "only SHIPPED lines can be returned" in error["message"] and "L2" in error["message"]
    # the whole message is refused: nothing stored, nothing sent
    assert mock.client.state("returns") == [] and mock.client.state("return_lines") == [] and mock.client.state("refunds") == []
    assert len(deliveries(mock)) == before
    assert mock.client.journal(method=AUTHORIZE_RETURN)[-1]["status"] == "rejected"
    # the shipping line never ships, so it can never be returned either
    error = rpc_error(post(mock, "/api", rpc(AUTHORIZE_RETURN, return_params("R-102", ["SHIPPING"]))), -32005)
    assert error["data"]["path"] == "$.params.return.lines[0]"
    # the shipped one alone is fine
    assert mock.client.call(AUTHORIZE_RETURN, return_params("R-102", ["L1"]))["status"] == "APPROVED"


def test_a_line_is_returned_once(shop):
    mock, _, _ = shop
    shipped_order(mock, "R-103")
    first = mock.client.call(AUTHORIZE_RETURN, return_params("R-103", ["L1"]))
    error = rpc_error(post(mock, "/api", rpc(AUTHORIZE_RETURN, return_params("R-103", ["L1"]))), -32005)
    assert first["rma"] in error["message"] and error["data"]["path"] == "$.params.return.lines[0]"
    error = rpc_error(post(mock, "/api", rpc(AUTHORIZE_RETURN, return_params("R-103", ["L2", "L2"]))), -32602)
    assert error["data"]["path"] == "$.params.return.lines[1]"
    second = mock.client.call(AUTHORIZE_RETURN, return_params("R-103", ["L2"]))
    assert (second["rma"], second["credit_note_number"]) == ("R-103-R2", "CN-R-103-2")


def test_lines_can_be_named_by_line_number_and_checked_by_sku(shop):
    mock, _, _ = shop
    shipped_order(mock, "R-104")
    result = mock.client.call(AUTHORIZE_RETURN, {"return": {"order_id": "R-104", "lines": [{"line_number": 2, "sku": "MUG-ENAMEL"}]}})
    assert result["lines"] == ["L2"]
    error = rpc_error(post(mock, "/api", rpc(AUTHORIZE_RETURN, {"return": {"order_id": "R-104", "lines": [{"id": "L1", "sku": "MUG-ENAMEL"}]}})), -32602)
    assert error["data"]["path"] == "$.params.return.lines[0].sku"


@pytest.mark.parametrize(
    "change, code, path",
    [
        (lambda r: r.update(order_id="NO-SUCH-ORDER"), -32002, "$.params.return.order_id"),
        (lambda r: r.update(sales_channel_id="WEB-EU"), -32602, "$.params.return.sales_channel_id"),
        (lambda r: r.update(source_id="NOWHERE"), -32004, "$.params.return.source_id"),
        (lambda r: r.update(lines=[{"id": "L9"}]), -32602, "$.params.return.lines[0]"),
        (lambda r: r.update(lines=[{"id": None}]), -32602, "$.params.return.lines[0].id"),
        (lambda r: r.update(lines=[]), -32602, "$.params.return.lines"),
        (lambda r: r.pop("order_id"), -32602, "$.params.return.order_id"),
    ],
)
def test_bad_returns_are_refused_with_a_path(shop, change, code, path):
    mock, _, _ = shop
    shipped_order(mock, "R-105")
    params = return_params("R-105", ["L1"])
    change(params["return"])
    error = rpc_error(post(mock, "/api", rpc(AUTHORIZE_RETURN, params)), code)
    assert error["data"]["path"] == path, error
    assert mock.client.state("returns") == []


def test_a_return_does_not_change_stock(shop):
    mock, _, _ = shop
    shipped_order(mock, "R-106")
    stock = mock.client.state("source_stock")
    available = mock.client.state("aggregate_stock")
    mock.client.call(AUTHORIZE_RETURN, return_params("R-106", ["L1", "L2"], sales_channel_id="WEB-US"))
    assert mock.client.state("source_stock") == stock
    assert mock.client.state("aggregate_stock") == available
    (inbound,) = mock.client.journal(method=AUTHORIZE_RETURN)
    assert "magento.inventory.aggregate_stock_management.updated" not in {r["method"] for r in mock.client.journal(caused_by=inbound["id"])}
    # and the order keeps its statuses
    assert {ln["status"] for ln in mock.client.state("order_lines", order_id="R-106") if ln["product_type"] == "PHYSICAL"} == {"SHIPPED"}


def test_an_asynchronous_authorize_is_acknowledged_then_processed(shop):
    mock, mdc, _ = shop
    shipped_order(mock, "R-107")
    answer = post(mock, "/delegate/oms", rpc(AUTHORIZE_RETURN, return_params("R-107", ["L2"]), id="a-1"))
    assert answer.status_code == 200 and answer.json() == {"jsonrpc": "2.0", "id": "a-1", "result": {}}
    received(mdc, REFUND_UPDATED, 1)
    assert mock.client.state("returns")[0]["status"] == "APPROVED"


def test_one_payment_refund_per_payment_the_lines_were_paid_with(shop):
    mock, _, pay = shop
    params = order_params("R-108", ("TEE-ORG-S", "MUG-ENAMEL", "BAG-TOTE"))
    order = params["order"]
    order["payments"] = [
        {"reference": "P1", "currency": "USD", "transactions": [
            {"payment_method": "CREDITCARD", "amount": 20, "billing_address_reference": "A1",
             "gateway_information": {"gateway_id": "BRAINTREE", "transaction_id": "t-1", "authorization_status": "AUTHORIZED"}}]},
        {"reference": "P2", "currency": "USD", "transactions": [
            {"payment_method": "GIFTCARD", "amount": 10, "billing_address_reference": "A1",
             "gateway_information": {"gateway_id": "GIFTCARDS", "transaction_id": "g-9"}}]},
    ]
    for line, reference in zip(order["lines"], ("P1", "P1", "P2", "P1"), strict=True):
        line["payment_reference"] = reference
    shipped_order(mock, "R-108", params=params)
    result = mock.client.call(AUTHORIZE_RETURN, return_params("R-108", ["L1", "L2", "L3"]))
    assert result["refund_amount"] == 30.0
    refunds = [e["params"]["payment"] for e in received(pay, PAYMENT_REFUND, 2)]
    assert sorted((p["gateway"], p["gateway_key"], p["amount"], len(p["lines"])) for p in refunds) == [
        ("BRAINTREE", "t-1", 20.0, 2), ("GIFTCARDS", "g-9", 10.0, 1)]
    assert len({p["operation_reference"] for p in refunds}) == 2


def test_return_params_builds_valid_authorize_params():
    params = return_params("100000001", ["1", {"line_number": 2, "reason": "DAMAGED"}], reason="WRONG_SIZE", sales_channel_id="WEB-US")
    assert catalog.validate(AUTHORIZE_RETURN, params) == []
    assert [ln.get("reason") for ln in params["return"]["lines"]] == ["WRONG_SIZE", "DAMAGED"]


def test_reset_forgets_returns(shop):
    mock, _, _ = shop
    shipped_order(mock, "R-109")
    mock.client.call(AUTHORIZE_RETURN, return_params("R-109", ["L1"]))
    mock.reset()
    assert mock.client.state("returns") == [] and mock.client.state("return_lines") == [] and mock.client.state("refunds") == []


def test_unknown_views_list_the_new_ones(mock):
    import requests

    answer = requests.get(mock.url + "/state/nope", timeout=5)
    assert answer.status_code == 404 and "returns, return_lines, refunds" in answer.json()["error"]


def test_the_shipment_flow_still_reaches_commerce(shop):
    # the post-sales tables must not disturb the shipping flow that precedes them
    mock, mdc, _ = shop
    mdc.handlers[SHIPMENT_DONE] = lambda p: None
    mdc.register(mock.client)
    shipped_order(mock, "R-110", skus=("TEE-ORG-S",))
    assert received(mdc, SHIPMENT_DONE, 1)[0]["params"]["shipment"]["order_id"] == "R-110"
    assert REQUEST_SHIPMENT not in {e["method"] for e in mdc.log}
