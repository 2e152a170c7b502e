"""Payment commands OMS sends (validate after an order, capture after shipping) and the payment
notifications it takes on its delegate URL (mom-reference.md 3 rows 25-30, 7.1; flows/payments.py)."""

from __future__ import annotations

import pytest

from momlab import payments
from momlab.bus import catalog
from momlab.topics import LINES_SHIPPED, ORDER_CREATE
from tests.support.mocks import deliveries, wait_delivered
from tests.support.rpc import post, rpc, rpc_error

VALIDATE = "magento.payments.payments_management.validate"
CAPTURE = "magento.payments.payments_management.capture"
REFUND = "magento.payments.payments_management.refund"
NOTE = "magento.payments.course_placeholder.notify"  # any magento.payments.* the catalog lacks


@pytest.fixture
def gateway(mock, start_receiver):
    receiver = start_receiver(id="acmepay", secret="pay-secret", handlers={VALIDATE: lambda p: {}, CAPTURE: lambda p: {}, REFUND: lambda p: {}})
    receiver.register(mock.client)
    return receiver


def ship_all(mock, order_id: str, lines: list[str] | None = None) -> list[dict]:
    results = []
    for request in mock.client.state("shipment_requests"):
        if request["order_id"] != order_id:
            continue
        items = [{"order_line_id": i["order_line_id"]} for i in request["body"]["items"] if lines is None or i["order_line_id"] in lines]
        if items:
            results.append(mock.client.call(LINES_SHIPPED, {"request_id": request["id"], "items": items}))
    return results


def test_validate_follows_an_order_paid_by_card(mock, gateway):
    params = payments.card_order_params("PAY-1", ["TEE-ORG-S", "MUG-ENAMEL"], gateway="acmepay", transaction_id="AUTH-77")
    mock.client.call(ORDER_CREATE, params)
    (row,) = wait_delivered(mock, VALIDATE, order_id="PAY-1")
    payment = row["body"]["params"]["payment"]
    assert catalog.validate(VALIDATE, row["body"]["params"]) == []
    assert payment["order_id"] == "PAY-1" and payment["operation_reference"] == "PAY-1-validate-1"
    assert payment["gateway"] == "acmepay" and payment["gateway_key"] == "AUTH-77"
    assert payment["method_details"] == {"method": "CREDITCARD", "submethod": "VISA"}
    total = sum(line["amount"]["gross_amount"] for line in params["order"]["lines"])
    assert payment["amount"] == pytest.approx(total)
    assert [line["item_sku"] for line in payment["lines"]] == [line["sku"] for line in params["order"]["lines"]]
    assert any(e["method"] == VALIDATE and e["signature"] == "ok" for e in gateway.log)


def test_no_payment_command_for_offline_orders_or_without_a_subscriber(mock, start_receiver):
    from momlab import orders

    mock.client.call(ORDER_CREATE, orders.order_params("OFF-1", ["TEE-ORG-S"]))  # ZEROPAY / OFFLINE
    mock.client.call(ORDER_CREATE, payments.card_order_params("CARD-NOSUB", ["TEE-ORG-S"]))  # nobody subscribed
    mock.wait_idle()
    assert not [r for r in mock.client.journal() if r["method"].startswith("magento.payments.")]
    receiver = start_receiver(id="pay", handlers={VALIDATE: lambda p: {}})
    receiver.register(mock.client)
    mock.client.call(ORDER_CREATE, orders.order_params("OFF-2", ["TEE-ORG-S"]))
    mock.wait_idle()
    assert not deliveries(mock, method=VALIDATE)


def test_order_flow_without_payment_subscriber_is_unchanged(mock):
    """Labs 01 and 02 see exactly the messages they saw before payments existed."""
    mock.client.call(ORDER_CREATE, payments.card_order_params("SAME-1", ["TEE-ORG-S"]))
    mock.wait_idle()
    methods = [r["method"] for r in deliveries(mock, order_id="SAME-1")]
    assert methods == ["magento.sales.order_management.updated", "magento.logistics.warehouse_management.request_shipment",
                       "magento.sales.order_management.updated"]


def test_capture_per_shipment_adds_up_to_the_order_total(mock, gateway):
    params = payments.card_order_params("CAP-1", ["TEE-ORG-S", "SOCK-WOOL", "MUG-ENAMEL"])
    mock.client.call(ORDER_CREATE, params)
    mock.wait_idle()
    lines = [line for line in params["order"]["lines"] if line["product_type"] == "PHYSICAL"]
    ship_all(mock, "CAP-1", [lines[0]["id"]])
    first = wait_delivered(mock, CAPTURE, order_id="CAP-1")
    ship_all(mock, "CAP-1", [line["id"] for line in lines[1:]])
    captures = wait_delivered(mock, CAPTURE, count=2, order_id="CAP-1")
    assert first[0]["body"]["params"]["payment"]["operation_reference"] == "CAP-1-capture-1"
    refs = [c["body"]["params"]["payment"]["operation_reference"] for c in captures]
    assert refs == ["CAP-1-capture-1", "CAP-1-capture-2"]
    first_skus = {line["item_sku"] for line in captures[0]["body"]["params"]["payment"]["lines"]}
    assert first_skus == {lines[0]["sku"], "STANDARD"}  # the shipping line goes with the first capture
    total = sum(line["amount"]["gross_amount"] for line in params["order"]["lines"])
    assert sum(c["body"]["params"]["payment"]["amount"] for c in captures) == pytest.approx(total)
    for capture in captures:
        assert catalog.validate(CAPTURE, capture["body"]["params"]) == []


def test_notification_is_acknowledged_and_recorded_against_the_order(mock, gateway):
    mock.client.call(ORDER_CREATE, payments.card_order_params("NOTE-1", ["TEE-ORG-S"]))
    wait_delivered(mock, VALIDATE, order_id="NOTE-1")
    (waiting,) = mock.client.state("payments", order_id="NOTE-1")
    assert waiting["command"] == "validate" and waiting["notified"] is False and waiting["waiting_s"] >= 0
    answer = post(mock, "/delegate/oms", rpc(NOTE, {"payment": {"order_id": "NOTE-1", "operation_reference": "NOTE-1-validate-1", "gateway_response": "ACCEPTED"}}))
    assert answer.status_code == 200 and answer.json()["result"] == {}
    (row,) = mock.client.state("payments", order_id="NOTE-1")
    assert row["notified"] is True and row["notification"] == NOTE and row["gateway_response"] == "ACCEPTED" and row["waiting_s"] is None
    (inbound,) = mock.client.journal(method=NOTE)
    assert inbound["route"] == "delegate/oms" and inbound["status"] == "ok" and inbound["order_id"] == "NOTE-1"
    assert inbound["response"]["answers"] == "validate" and inbound["response"]["notes"] == []


def test_notification_that_answers_nothing_is_still_acknowledged_with_notes(mock):
    answer = post(mock, "/delegate/oms", rpc("magento.payments.anything.at_all", {"payment": {"order_id": "NOPE"}}))
    assert answer.status_code == 200 and answer.json()["result"] == {}
    (inbound,) = mock.client.journal(method="magento.payments.anything.at_all")
    notes = " ".join(inbound["response"]["notes"])
    assert "operation_reference" in notes and "NOPE" in notes
    (row,) = mock.client.state("payments")
    assert row["command"] is None and row["notified"] is True


@pytest.mark.parametrize("route", ["/api", "/remote/oms", "/events"])
def test_notification_elsewhere_than_the_delegate_url_is_refused(mock, route):
    error = rpc_error(post(mock, route, rpc(NOTE, {"payment": {}})), -32601)
    assert "/delegate/oms" in error["message"]


def test_a_command_posted_to_oms_is_refused(mock):
    """The commands go from OMS to the integration, never back: they are in the catalog as from_mom."""
    error = rpc_error(post(mock, "/delegate/oms", rpc(CAPTURE, catalog.example(CAPTURE))), -32601)
    assert "OMS does not receive" in error["message"]


def test_other_unknown_methods_are_still_refused(mock):
    rpc_error(post(mock, "/delegate/oms", rpc("magento.paymentz.x.y", {})), -32601)
    rpc_error(post(mock, "/delegate/oms", rpc("magento.payments.", {})), -32601)


def test_reset_forgets_notifications(mock):
    post(mock, "/delegate/oms", rpc(NOTE, {"payment": {"order_id": "X", "operation_reference": "X-1"}}))
    assert mock.client.state("payments")
    mock.reset()
    assert mock.client.state("payments") == []


def test_refund_from_a_return_shows_in_the_payments_view(mock, gateway):
    mock.client.call(ORDER_CREATE, payments.card_order_params("RF-1", ["TEE-ORG-S"]))
    mock.wait_idle()
    ship_all(mock, "RF-1")
    mock.wait_idle()
    mock.client.call("magento.postsales.return_management.authorize", {"return": {"order_id": "RF-1", "lines": [{"id": "1", "reason": "damaged"}]}})
    wait_delivered(mock, REFUND, order_id="RF-1")
    commands = [r["command"] for r in mock.client.state("payments", order_id="RF-1")]
    assert commands == ["validate", "capture", "refund"]
