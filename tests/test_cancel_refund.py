"""A refund without a return: customer service cancels lines that have not shipped
(flows/postsales.py cancel_lines, the admin action mom.admin.cancel_lines)."""

from __future__ import annotations

import pytest

from momlab import MomError, payments
from momlab.bus import catalog
from momlab.topics import LINES_SHIPPED, ORDER_CREATE, PAYMENT_REFUND, REFUND_UPDATED, RETURN_UPDATED, UPDATED
from tests.support.builders import order_params
from tests.support.mocks import wait_for


@pytest.fixture
def listener(mock, start_receiver):
    topics = (UPDATED, REFUND_UPDATED, RETURN_UPDATED, PAYMENT_REFUND)
    receiver = start_receiver(id="listener", handlers={t: (lambda params: None) for t in topics})
    receiver.register(mock.client)
    return receiver


def web(mock, sku):
    (row,) = [r for r in mock.client.state("aggregate_stock", aggregate_id="AGG-WEB") if r["sku"] == sku]
    return row["in_flight"], row["available"]


def test_cancelling_an_unshipped_line_refunds_it_without_a_return(mock, listener):
    mock.client.call(ORDER_CREATE, payments.card_order_params("C100", ["LAMP-DESK", "PEN-BRASS"]))
    assert web(mock, "PEN-BRASS") == (1, 5)
    result = mock.admin.cancel_lines("C100", ["2"])
    assert result["cancelled"] == ["2"] and result["credit_note_number"] == "CN-C100-1"
    assert result["refund_amount"] == 35.0 and result["order_status"] == "LOGISTICS"
    state = {x["line_id"]: (x["status"], x["status_reason"]) for x in mock.client.state("order_lines", order_id="C100")}
    assert state["2"] == ("CANCELLED", "CUSTOMERREQ") and state["1"][0] == "NEW"
    assert web(mock, "PEN-BRASS") == (0, 6)  # the hold is gone
    (refund,) = mock.client.state("refunds")
    assert (refund["rma"], refund["refund_type"], refund["amount"]) == (None, "CANCELLED", 35.0)
    assert mock.client.state("returns") == []
    mock.wait_idle()
    wait_for(lambda: len(listener.log) >= 5, what="the order, refund and payment messages")
    methods = [e["method"] for e in listener.log]
    assert RETURN_UPDATED not in methods and methods[-3:] == [UPDATED, REFUND_UPDATED, PAYMENT_REFUND]
    sent = {e["method"]: e["params"] for e in listener.log}
    assert sent[REFUND_UPDATED]["refund"]["refund_type"] == "CANCELLED" and sent[REFUND_UPDATED]["refund"]["rma"] is None
    assert sent[PAYMENT_REFUND]["payment"]["amount"] == 35.0 and sent[PAYMENT_REFUND]["payment"]["gateway"] == "acmepay"
    for entry in listener.log:
        assert catalog.validate(entry["method"], entry["params"]) == [], entry["method"]


def test_cancelling_every_line_cancels_the_order_and_a_waiting_line_frees_its_soft_hold(mock):
    mock.admin.sourcing_mode("AGG-WEB", "batch")
    mock.client.call(ORDER_CREATE, order_params("C110", ("SOCK-WOOL",)))
    (row,) = [r for r in mock.client.state("aggregate_stock", aggregate_id="AGG-WEB") if r["sku"] == "SOCK-WOOL"]
    assert row["soft_allocated"] == 1
    assert mock.admin.cancel_lines("C110", ["L1", "SHIPPING"], reason="EEREQ")["order_status"] == "COMPLETE"
    (row,) = [r for r in mock.client.state("aggregate_stock", aggregate_id="AGG-WEB") if r["sku"] == "SOCK-WOOL"]
    assert row["soft_allocated"] == 0 and mock.client.state("sourcing_queue") == []
    (order,) = mock.client.state("orders")
    assert (order["status"], order["status_reason"]) == ("COMPLETE", "FULLYCANCELLED")


@pytest.mark.parametrize(("lines", "reason", "code", "path"), [
    (["9"], "CUSTOMERREQ", -32602, "lines[0]"),
    (["1", "1"], "CUSTOMERREQ", -32602, "lines[1]"),
    ([], "CUSTOMERREQ", -32602, "lines"),
    (["1"], "BORED", -32602, "reason"),
])
def test_bad_cancellations_are_refused(mock, lines, reason, code, path):
    mock.client.call(ORDER_CREATE, payments.card_order_params("C120", ["LAMP-DESK"]))
    with pytest.raises(MomError) as refused:
        mock.admin.cancel_lines("C120", lines, reason=reason)
    assert (refused.value.code, refused.value.path) == (code, path)
    assert mock.client.state("refunds") == []


def test_a_shipped_line_is_returned_not_cancelled(mock):
    mock.client.call(ORDER_CREATE, order_params("C130", ("SOCK-WOOL",)))
    mock.client.call(LINES_SHIPPED, {"request_id": "C130-1", "items": [{"order_line_id": "L1"}]})
    with pytest.raises(MomError) as refused:
        mock.admin.cancel_lines("C130", ["L1"])
    assert refused.value.code == -32005 and "return_management.authorize" in refused.value.message
    with pytest.raises(MomError) as refused:
        mock.admin.cancel_lines("NOPE", ["L1"])
    assert refused.value.code == -32002
