"""Soft and hard allocation on real state: direct sourcing (the default), batch mode and its waves
(flows/allocation.py, the admin actions of momlab.bus.admin)."""

from __future__ import annotations

import pytest

from momlab import MomError
from momlab.bus import catalog
from momlab.topics import AGGREGATE_UPDATED, LINES_SHIPPED, ORDER_CREATE, REQUEST_SHIPMENT, UPDATED
from tests.support.builders import order_params
from tests.support.mocks import wait_delivered, wait_for


def stock(mock, aggregate, sku):
    (row,) = [r for r in mock.client.state("aggregate_stock", aggregate_id=aggregate) if r["sku"] == sku]
    return row["on_hand"], row["in_flight"], row["soft_allocated"], row["available"]


def lines(mock, order_id):
    return {x["line_id"]: x for x in mock.client.state("order_lines", order_id=order_id)}


def order(mock, order_id):
    (row,) = [o for o in mock.client.state("orders") if o["id"] == order_id]
    return row["status"], row["status_reason"]


@pytest.fixture
def listener(mock, start_receiver):
    """A remote that hears every message this module's flows send."""
    topics = [UPDATED, REQUEST_SHIPMENT, AGGREGATE_UPDATED]
    receiver = start_receiver(id="listener", handlers={t: (lambda params: None) for t in topics})
    receiver.register(mock.client)
    return receiver


def heard(receiver, method):
    return [e["params"] for e in receiver.log if e["method"] == method]


def test_direct_mode_is_the_default_and_holds_at_the_source_at_once(mock):
    result = mock.client.call(ORDER_CREATE, order_params("A100", ("TEE-ORG-L",)))
    assert result["status"] == "LOGISTICS" and result["shipment_requests"] == ["A100-1"]
    assert stock(mock, "AGG-WEB", "TEE-ORG-L") == (12, 1, 0, 11)  # WH-EAST 12 + WH-WEST 0, one unit hard
    assert mock.client.state("sourcing_queue") == []


def test_batch_mode_holds_soft_then_the_wave_makes_it_hard(mock, listener):
    assert mock.admin.sourcing_mode("AGG-WEB", "batch") == {"aggregate_id": "AGG-WEB", "mode": "batch", "waiting_lines": 0}
    before_retail = stock(mock, "AGG-RETAIL", "TEE-ORG-L")  # WH-EAST is in both aggregates

    result = mock.client.call(ORDER_CREATE, order_params("A101", ("TEE-ORG-L",)))
    assert result["status"] == "RECEIVED" and result["shipment_requests"] == []
    assert lines(mock, "A101")["L1"]["status"] == "NEW" and lines(mock, "A101")["L1"]["source_id"] is None
    assert stock(mock, "AGG-WEB", "TEE-ORG-L") == (12, 0, 1, 11)  # soft: this aggregate only
    assert stock(mock, "AGG-RETAIL", "TEE-ORG-L") == before_retail
    mock.wait_idle()
    assert [p["snapshot"]["aggregate_id"] for p in heard(listener, AGGREGATE_UPDATED)] == ["AGG-WEB"]
    assert heard(listener, AGGREGATE_UPDATED)[0]["snapshot"]["stock"] == [{"sku": "TEE-ORG-L", "quantity": 11}]
    assert heard(listener, REQUEST_SHIPMENT) == []
    assert [p["order"]["status"] for p in heard(listener, UPDATED)] == ["RECEIVED"]
    assert mock.client.state("sourcing_queue") == [
        {"order_id": "A101", "line_id": "L1", "aggregate_id": "AGG-WEB", "sku": "TEE-ORG-L", "street_date": None}]

    wave = mock.admin.run_sourcing()
    assert wave["sourced"] == [{"order_id": "A101", "line_id": "L1", "sku": "TEE-ORG-L", "source_id": "WH-EAST", "request_id": "A101-1"}]
    assert wave["still_waiting"] == 0
    assert stock(mock, "AGG-WEB", "TEE-ORG-L") == (12, 1, 0, 11)  # hard now: same figure for the channel
    on_hand, in_flight, soft, available = before_retail
    assert stock(mock, "AGG-RETAIL", "TEE-ORG-L") == (on_hand, in_flight + 1, 0, available - 1)  # the source is shared
    assert order(mock, "A101") == ("LOGISTICS", "READYTOSHIP")
    mock.wait_idle()
    (request,) = heard(listener, REQUEST_SHIPMENT)
    assert request["request_id"] == "A101-1" and request["source_id"] == "WH-EAST"
    assert [p["order"]["status"] for p in heard(listener, UPDATED)] == ["RECEIVED", "LOGISTICS"]
    for entry in listener.log:
        assert catalog.validate(entry["method"], entry["params"]) == [], entry["method"]

    mock.client.call(LINES_SHIPPED, {"request_id": "A101-1", "items": [{"order_line_id": "L1"}]})
    assert stock(mock, "AGG-WEB", "TEE-ORG-L") == (11, 0, 0, 11)  # shipped: off the shelf, no longer held


def test_the_wave_sources_the_oldest_orders_first(mock):
    mock.admin.sourcing_mode("AGG-WEB", "batch")
    for order_id in ("A110", "A111"):  # JEAN-IND-34: 1 at WH-EAST, 12 at WH-WEST
        mock.client.call(ORDER_CREATE, order_params(order_id, ("JEAN-IND-34",)))
    assert stock(mock, "AGG-WEB", "JEAN-IND-34")[2:] == (2, 11)
    sourced = mock.admin.run_sourcing("AGG-WEB")["sourced"]
    assert [(s["order_id"], s["source_id"]) for s in sourced] == [("A110", "WH-EAST"), ("A111", "WH-WEST")]


def test_a_wave_only_touches_the_aggregate_it_is_run_for(mock):
    mock.admin.sourcing_mode("AGG-WEB", "batch")
    mock.admin.sourcing_mode("AGG-RETAIL", "batch")
    mock.client.call(ORDER_CREATE, order_params("A120", ("SOCK-WOOL",)))
    mock.client.call(ORDER_CREATE, order_params("A121", ("SOCK-WOOL",), store="POS-BCN"))
    wave = mock.admin.run_sourcing("AGG-RETAIL")
    assert [s["order_id"] for s in wave["sourced"]] == ["A121"] and wave["still_waiting"] == 0  # in AGG-RETAIL
    assert [q["order_id"] for q in mock.client.state("sourcing_queue")] == ["A120"]
    assert order(mock, "A120") == ("RECEIVED", "IMPORTED")


def test_switching_back_to_direct_sources_new_orders_at_once_and_leaves_the_queue(mock):
    mock.admin.sourcing_mode("AGG-WEB", "batch")
    mock.client.call(ORDER_CREATE, order_params("A130", ("BAG-TOTE",)))
    assert mock.admin.sourcing_mode("AGG-WEB", "direct")["waiting_lines"] == 1
    assert mock.client.call(ORDER_CREATE, order_params("A131", ("BAG-TOTE",)))["status"] == "LOGISTICS"
    assert mock.admin.run_sourcing()["sourced"][0]["order_id"] == "A130"


def test_pickup_lines_are_sourced_at_once_even_in_batch_mode(mock):
    mock.admin.sourcing_mode("AGG-RETAIL", "batch")
    params = order_params("A140", ("TEE-ORG-S", "TEE-ORG-L"), store="POS-BCN")
    params["order"]["lines"][0]["pickup_location"] = "STORE-BCN"
    result = mock.client.call(ORDER_CREATE, params)
    assert result["status"] == "LOGISTICS"  # one line is sourced: the order is with logistics
    state = lines(mock, "A140")
    assert (state["L1"]["source_id"], state["L1"]["status"]) == ("STORE-BCN", "PICKREADY")
    assert (state["L2"]["source_id"], state["L2"]["status"]) == (None, "NEW")
    assert [q["line_id"] for q in mock.client.state("sourcing_queue")] == ["L2"]


def test_admin_actions_are_journaled_and_linked_to_what_they_caused(mock):
    mock.admin.sourcing_mode("AGG-WEB", "batch")
    mock.client.call(ORDER_CREATE, order_params("A150", ("CANDLE-CEDAR",)))
    mock.admin.run_sourcing()
    (row,) = mock.client.journal(route="admin/run_sourcing")
    assert row["direction"] == "in" and row["method"] is None and row["status"] == "ok"
    assert row["response"]["sourced"][0]["order_id"] == "A150"
    caused = [r["method"] for r in mock.client.journal(caused_by=row["id"])]
    assert caused == [REQUEST_SHIPMENT, UPDATED, AGGREGATE_UPDATED, AGGREGATE_UPDATED]


@pytest.mark.parametrize(("aggregate", "mode", "code", "path"), [
    ("AGG-NOPE", "batch", -32004, "aggregate_id"),
    ("AGG-WEB", "waves", -32602, "mode"),
])
def test_bad_settings_are_refused_with_what_to_fix(mock, aggregate, mode, code, path):
    with pytest.raises(MomError) as refused:
        mock.admin.sourcing_mode(aggregate, mode)
    assert refused.value.code == code and refused.value.path == path
    assert "AGG-WEB" in refused.value.message or "'direct' or 'batch'" in refused.value.message
    assert mock.client.journal(route="admin/sourcing_mode") == []  # a refused action changes nothing


def test_a_wave_with_a_bad_date_is_refused(mock):
    with pytest.raises(MomError) as refused:
        mock.admin.run_sourcing(as_of="next week")
    assert refused.value.code == -32602 and "2027-03-01" in refused.value.message


def test_reset_forgets_modes_and_soft_holds(mock):
    mock.admin.sourcing_mode("AGG-WEB", "batch")
    mock.client.call(ORDER_CREATE, order_params("A160", ("TEE-ORG-L",)))
    mock.reset()
    assert stock(mock, "AGG-WEB", "TEE-ORG-L") == (12, 0, 0, 12)
    assert mock.client.call(ORDER_CREATE, order_params("A160", ("TEE-ORG-L",)))["status"] == "LOGISTICS"


def test_batch_orders_reach_subscribers_only_after_the_wave(mock, start_receiver):
    wms = start_receiver(id="wms", handlers={REQUEST_SHIPMENT: lambda params: None})
    wms.register(mock.client)
    mock.admin.sourcing_mode("AGG-WEB", "batch")
    mock.client.call(ORDER_CREATE, order_params("A170", ("MUG-ENAMEL", "MUG-ENAMEL")))
    mock.wait_idle()
    assert wms.log == []
    mock.admin.run_sourcing()
    wait_for(lambda: len(wms.log) == 1, what="the shipment request after the wave")
    assert [i["order_line_id"] for i in wms.log[0]["params"]["items"]] == ["L1", "L2"]
    (row,) = wait_delivered(mock, REQUEST_SHIPMENT)
    assert row["order_id"] == "A170"
