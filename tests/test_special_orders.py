"""Special order types on real state: virtual lines, backorders, bundles (SHIPTOGETHER) and
pre-orders with their street date (flows/allocation.py and the order flow)."""

from __future__ import annotations

import pytest

from momlab import payments
from momlab.bus import catalog
from momlab.topics import LINES_SHIPPED, ORDER_CREATE, REQUEST_SHIPMENT
from tests.support.builders import order_params
from tests.support.mocks import wait_for
from tests.support.rpc import post, rpc, rpc_error

REVALIDATE = "magento.payments.payments_management.revalidate"


def lines(mock, order_id):
    return {x["line_id"]: x for x in mock.client.state("order_lines", order_id=order_id)}


def order(mock, order_id):
    (row,) = [o for o in mock.client.state("orders") if o["id"] == order_id]
    return row["status"], row["status_reason"]


def web(mock, sku):
    (row,) = [r for r in mock.client.state("aggregate_stock", aggregate_id="AGG-WEB") if r["sku"] == sku]
    return row


def bundle_order(order_id, components, kit="KIT-TRAVEL"):
    params = order_params(order_id, (kit, *components))
    params["order"]["lines"][0]["product_type"] = "BUNDLE"
    for line in params["order"]["lines"][1 : 1 + len(components)]:
        line["parent_line_id"] = "L1"
    return params


def test_a_virtual_line_is_never_sourced(mock):
    params = order_params("V100", ("GIFTCARD-50", "SOCK-WOOL"))
    params["order"]["lines"][0]["product_type"] = "VIRTUAL"
    result = mock.client.call(ORDER_CREATE, params)
    state = lines(mock, "V100")
    assert (state["L1"]["source_id"], state["L1"]["status"], state["L1"]["status_reason"]) == (None, "NEW", "INITIALORDER")
    assert state["L2"]["source_id"] == "WH-EAST" and result["shipment_requests"] == ["V100-1"]
    mock.client.call(LINES_SHIPPED, {"request_id": "V100-1", "items": [{"order_line_id": "L2"}]})
    assert order(mock, "V100") == ("COMPLETE", "FULLYSHIPPED")  # the virtual line does not hold the order open


def test_a_backorder_is_sourced_with_no_stock(mock):
    # HOOD-GRY-M: WH-EAST 0, WH-WEST 1. The second unit goes to the first source by priority, as a backorder.
    mock.client.call(ORDER_CREATE, order_params("V110", ("HOOD-GRY-M", "HOOD-GRY-M")))
    state = lines(mock, "V110")
    assert (state["L1"]["source_id"], state["L2"]["source_id"]) == ("WH-WEST", "WH-EAST")
    row = web(mock, "HOOD-GRY-M")
    assert (row["on_hand"], row["in_flight"], row["available"]) == (1, 2, 0)  # promised more than there is


def test_bundle_components_ship_together_from_one_source(mock, start_receiver):
    wms = start_receiver(id="wms", handlers={REQUEST_SHIPMENT: lambda params: None})
    wms.register(mock.client)
    # alone, TEE-ORG-M would go to WH-EAST (2) and CAP-NAVY to WH-WEST (3): together, both from WH-WEST
    unbundled = mock.client.call(ORDER_CREATE, order_params("V120", ("TEE-ORG-M", "CAP-NAVY")))
    assert len(unbundled["shipment_requests"]) == 2
    result = mock.client.call(ORDER_CREATE, bundle_order("V121", ("TEE-ORG-M", "CAP-NAVY")))
    assert result["shipment_requests"] == ["V121-1"]
    state = lines(mock, "V121")
    assert (state["L1"]["product_type"], state["L1"]["source_id"]) == ("BUNDLE", None)
    assert {state["L2"]["source_id"], state["L3"]["source_id"]} == {"WH-WEST"}
    wait_for(lambda: len([e for e in wms.log if e["params"]["order_id"] == "V121"]) == 1, what="one request for the bundle")
    (request,) = [e["params"] for e in wms.log if e["params"]["order_id"] == "V121"]
    assert [i["order_line_id"] for i in request["items"]] == ["L2", "L3"]
    assert catalog.validate(REQUEST_SHIPMENT, request) == []
    mock.client.call(LINES_SHIPPED, {"request_id": "V121-1", "items": [{"order_line_id": "L2"}, {"order_line_id": "L3"}]})
    assert order(mock, "V121") == ("COMPLETE", "FULLYSHIPPED")  # the BUNDLE line ships as its components


def test_a_bundle_no_source_can_complete_is_backordered_at_the_first_source(mock):
    # LAMP-DESK: WH-EAST 1, WH-WEST 5; SOCK-WOOL: WH-EAST 8, WH-WEST 0 -> two lamps and socks fit nowhere
    mock.client.call(ORDER_CREATE, bundle_order("V130", ("LAMP-DESK", "LAMP-DESK", "SOCK-WOOL")))
    assert {x["source_id"] for x in lines(mock, "V130").values() if x["product_type"] == "PHYSICAL"} == {"WH-EAST"}


def test_bundles_in_batch_mode_wait_and_still_ship_together(mock):
    mock.admin.sourcing_mode("AGG-WEB", "batch")
    mock.client.call(ORDER_CREATE, bundle_order("V140", ("TEE-ORG-M", "CAP-NAVY")))
    assert [q["line_id"] for q in mock.client.state("sourcing_queue")] == ["L2", "L3"]
    wave = mock.admin.run_sourcing()
    assert {s["source_id"] for s in wave["sourced"]} == {"WH-WEST"} and wave["shipment_requests"] == ["V140-1"]


def test_a_pre_order_waits_for_its_street_date_then_revalidates(mock, start_receiver):
    gateway = start_receiver(id="gateway", handlers={REVALIDATE: lambda params: None})
    gateway.register(mock.client)
    params = payments.card_order_params("V150", ["LAMP-DESK", "PEN-BRASS"])
    params["order"]["lines"][0]["pre_order_street_date"] = "2031-03-01"
    result = mock.client.call(ORDER_CREATE, params)
    assert result["status"] == "LOGISTICS"  # the pen is sourced at once
    state = lines(mock, "V150")
    assert (state["1"]["source_id"], state["2"]["source_id"]) == (None, "WH-EAST")
    assert web(mock, "LAMP-DESK")["soft_allocated"] == 1
    assert mock.admin.run_sourcing(as_of="2031-02-28")["sourced"] == []
    wave = mock.admin.run_sourcing(as_of="2031-03-01")
    assert [(s["line_id"], s["source_id"]) for s in wave["sourced"]] == [("1", "WH-EAST")]
    assert web(mock, "LAMP-DESK")["soft_allocated"] == 0
    wait_for(lambda: len(gateway.log) == 1, what="the revalidate")
    payment = gateway.log[0]["params"]["payment"]
    assert payment["order_id"] == "V150" and payment["operation_reference"] == "V150-revalidate-1"
    assert [x["item_sku"] for x in payment["lines"]] == ["LAMP-DESK"] and payment["amount"] == 59.0
    assert catalog.validate(REVALIDATE, gateway.log[0]["params"]) == []


def test_an_offline_pre_order_is_not_revalidated(mock):
    params = order_params("V160", ("LAMP-DESK",))
    params["order"]["lines"][0]["pre_order_street_date"] = "2031-03-01T00:00:00+00:00"
    assert mock.client.call(ORDER_CREATE, params)["status"] == "RECEIVED"
    mock.admin.run_sourcing(as_of="2032-01-01")
    assert mock.client.journal(method=REVALIDATE) == []
    assert order(mock, "V160") == ("LOGISTICS", "READYTOSHIP")


def test_a_street_date_in_the_past_is_sourced_at_once(mock):
    params = order_params("V170", ("LAMP-DESK",))
    params["order"]["lines"][0]["pre_order_street_date"] = "2020-01-01"
    assert mock.client.call(ORDER_CREATE, params)["status"] == "LOGISTICS"


@pytest.mark.parametrize("value", ["soon", "2031-13-01"])
def test_a_bad_street_date_is_refused(mock, value):
    params = order_params("V180", ("LAMP-DESK", "PEN-BRASS"))
    params["order"]["lines"][1]["pre_order_street_date"] = value
    error = rpc_error(post(mock, "/api", rpc(ORDER_CREATE, params)), -32602)
    assert error["data"]["path"] == "$.params.order.lines[1].pre_order_street_date"
    assert mock.client.state("orders") == []
