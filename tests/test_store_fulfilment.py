"""Store fulfilment on real state: in-store pickup, ship from store, ship to store, and picking with
confirm and decline (flows/instore.py, the In-Store Interface stand-ins of momlab.bus.admin)."""

from __future__ import annotations

import pytest

from momlab import MomError
from momlab.bus import catalog
from momlab.topics import ORDER_CREATE, REQUEST_SHIPMENT, SHIPMENT_DONE, STOCK_UPDATE, UPDATED
from tests.support.builders import order_params
from tests.support.mocks import wait_for

DETAILS = "magento.logistics.carrier_management.request_shipping_details"
CAPTURE = "magento.payments.payments_management.capture"


def lines(mock, order_id):
    return {x["line_id"]: (x["status"], x["source_id"]) for x in mock.client.state("order_lines", order_id=order_id)}


def order(mock, order_id):
    (row,) = [o for o in mock.client.state("orders") if o["id"] == order_id]
    return row["status"], row["status_reason"]


def on_hand(mock, source, sku):
    rows = [r for r in mock.client.state("source_stock", source_id=source) if r["sku"] == sku]
    return rows[0]["quantity"] if rows else 0


def held(mock, source, sku):
    """Units in flight (hard holds) at one source."""
    return mock.store.query("SELECT COALESCE(SUM(units), 0) FROM holds WHERE source_id = ? AND sku = ?", (source, sku))[0][0]


def pickup_order(order_id, skus, pickup=(0,), store="POS-BCN", location="STORE-BCN"):
    params = order_params(order_id, skus, store=store)
    for index in pickup:
        params["order"]["lines"][index]["pickup_location"] = location
    params["order"]["lines"][-1]["sku"] = "PICKUP"
    return params


@pytest.fixture
def shop(mock, start_receiver):
    """A mock with a warehouse (wms), the Commerce connector (mdc) and a carrier registered."""
    wms = start_receiver(id="wms", handlers={REQUEST_SHIPMENT: lambda params: None})
    mdc = start_receiver(id="mdc", handlers={UPDATED: lambda params: None, SHIPMENT_DONE: lambda params: None})

    def details(params):
        return [{"id": p["id"], "carrier": "DHL", "tracking_number": f"JD{n:04d}", "tracking_link": f"https://dhl.example/JD{n:04d}"}
                for n, p in enumerate(params["shipment"]["packages"], start=1)]

    carrier = start_receiver(id="carrier", handlers={DETAILS: details})
    for receiver in (wms, mdc, carrier):
        receiver.register(mock.client)
    return mock, wms, mdc, carrier


def methods(receiver, order_id):
    return [e["method"] for e in receiver.log if _order_of(e["params"]) == order_id]


def _order_of(params):
    for key in ("order", "shipment"):
        if isinstance(params.get(key), dict):
            return params[key].get("id") if key == "order" else params[key].get("order_id")
    return params.get("order_id")


def valid(receiver):
    for entry in receiver.log:
        assert catalog.validate(entry["method"], entry["params"]) == [], entry["method"]


# -- in-store pickup ------------------------------------------------------------------------------


def test_in_store_pickup_confirm_then_collect(shop):
    mock, wms, mdc, carrier = shop
    result = mock.client.call(ORDER_CREATE, pickup_order("S100", ("TEE-ORG-S",)))
    assert result["shipment_requests"] == ["S100-1"]
    assert lines(mock, "S100")["L1"] == ("PICKREADY", "STORE-BCN")
    assert held(mock, "STORE-BCN", "TEE-ORG-S") == 1
    (listed,) = mock.admin.pick_list("STORE-BCN").to_dict("records")
    assert (listed["order_id"], listed["line_id"], listed["kind"]) == ("S100", "L1", "PICKUP")

    assert mock.admin.pick("S100", confirm=["L1"]) == {"order_id": "S100", "lines": {"L1": "PICKCONFIRMED"}}
    assert mock.admin.pick_list("STORE-BCN").empty
    done = mock.admin.collect("S100")
    assert (done["order_status"], done["order_status_reason"]) == ("COMPLETE", "FULLYSHIPPED")
    assert lines(mock, "S100")["L1"] == ("SHIPPED", "STORE-BCN")
    assert on_hand(mock, "STORE-BCN", "TEE-ORG-S") == 0 and held(mock, "STORE-BCN", "TEE-ORG-S") == 0

    mock.wait_idle()
    assert wms.log == []  # the store works in OMS's own interface: no request_shipment to anyone
    assert methods(mdc, "S100") == [UPDATED, UPDATED, UPDATED, SHIPMENT_DONE, UPDATED, UPDATED]
    updates = [e["params"]["order"] for e in mdc.log if e["method"] == UPDATED]
    assert [u["lines"][0]["status"] for u in updates] == ["NEW", "PICKREADY", "PICKCONFIRMED", "SHIPPED", "SHIPPED"]
    assert [u["status"] for u in updates[-2:]] == ["LOGISTICSCOMPLETE", "COMPLETE"]
    (shipment,) = [e["params"]["shipment"] for e in mdc.log if e["method"] == SHIPMENT_DONE]
    assert shipment["source_id"] == "STORE-BCN" and shipment["method"] == "PICKUP"
    assert carrier.log == []  # nothing to carry: the customer takes it
    valid(mdc)


def test_pickup_location_must_be_a_store(mock):
    for location, code in (("STORE-NOPE", -32004), ("WH-EAST", -32602)):
        answer = mock.client.send({"jsonrpc": "2.0", "id": 1, "method": ORDER_CREATE,
                                   "params": pickup_order("S101", ("TEE-ORG-S",), location=location)})
        error = answer.json()["error"]
        assert error["code"] == code and error["data"]["path"] == "$.params.order.lines[0].pickup_location"
        assert "STORE-BCN" in error["message"]
    assert mock.client.state("orders") == []


def test_ship_to_store_moves_the_unit_from_the_warehouse_to_the_store(shop):
    mock, wms, mdc, carrier = shop
    # STORE-BCN has no TOWEL-LINEN; WH-EAST (in the channel's aggregate) has one
    mock.client.call(ORDER_CREATE, pickup_order("S110", ("TOWEL-LINEN",)))
    assert lines(mock, "S110")["L1"] == ("ALLOCATEDSHIP", "WH-EAST")
    assert held(mock, "WH-EAST", "TOWEL-LINEN") == 1 and mock.admin.pick_list().empty
    moved = mock.admin.receive_transfer("S110")["moved"]
    assert moved == [{"line_id": "L1", "sku": "TOWEL-LINEN", "from": "WH-EAST", "to": "STORE-BCN"}]
    assert (on_hand(mock, "WH-EAST", "TOWEL-LINEN"), held(mock, "WH-EAST", "TOWEL-LINEN")) == (0, 0)
    assert (on_hand(mock, "STORE-BCN", "TOWEL-LINEN"), held(mock, "STORE-BCN", "TOWEL-LINEN")) == (1, 1)
    assert lines(mock, "S110")["L1"] == ("PICKREADY", "STORE-BCN")
    mock.admin.pick("S110", confirm=["L1"])
    assert mock.admin.collect("S110")["order_status"] == "COMPLETE"
    mock.wait_idle()
    assert wms.log == []
    with pytest.raises(MomError) as refused:
        mock.admin.receive_transfer("S110")
    assert refused.value.code == -32005


def test_a_declined_pickup_line_is_shipped_to_the_store_or_cancelled(shop):
    mock = shop[0]
    mock.client.call(ORDER_CREATE, pickup_order("S120", ("TEE-ORG-S", "HOOD-GRY-L"), pickup=(0, 1)))
    # HOOD-GRY-L: the store has 0, WH-EAST 1 -> on its way; TEE-ORG-S: at the store
    assert lines(mock, "S120")["L2"] == ("ALLOCATEDSHIP", "WH-EAST")
    assert mock.admin.pick("S120", decline=["L1"])["lines"] == {"L1": "ALLOCATEDSHIP"}  # WH-EAST sends one instead
    assert lines(mock, "S120")["L1"] == ("ALLOCATEDSHIP", "WH-EAST")
    mock.client.call(STOCK_UPDATE, {"snapshot": {"source_id": "WH-EAST", "mode": "DELTA", "stock": [{"sku": "TEE-ORG-S", "quantity": 1}]}})
    mock.admin.receive_transfer("S120")
    assert mock.admin.pick("S120", confirm=["L2"], decline=["L1"])["lines"] == {"L2": "PICKCONFIRMED", "L1": "CANCELLED"}
    assert mock.client.state("order_lines", order_id="S120")[0]["status_reason"] == "OUTOFSTOCK"
    assert held(mock, "STORE-BCN", "TEE-ORG-S") == 0
    done = mock.admin.collect("S120")
    assert (done["order_status"], done["order_status_reason"]) == ("COMPLETE", "PARTIALLYSHIPPED")


# -- ship from store ------------------------------------------------------------------------------


def stock_only_at_store(mock, sku="CAP-NAVY", units=3):
    """CAP-NAVY: none at WH-EAST, so POS-BCN's aggregate (WH-EAST, then STORE-BCN) sources it at the store."""
    mock.client.call(STOCK_UPDATE, {"snapshot": {"source_id": "STORE-BCN", "mode": "DELTA", "stock": [{"sku": sku, "quantity": units}]}})


def test_a_store_without_store_fulfilment_gets_a_shipment_request_as_before(shop):
    mock, wms = shop[0], shop[1]
    stock_only_at_store(mock)
    mock.client.call(ORDER_CREATE, order_params("S130", ("CAP-NAVY",), store="POS-BCN"))
    assert lines(mock, "S130")["L1"] == ("NEW", "STORE-BCN")
    wait_for(lambda: methods(wms, "S130") == [REQUEST_SHIPMENT], what="the request to the store's own system")


def test_ship_from_store_confirm_pack_and_carrier(shop):
    mock, wms, mdc, carrier = shop
    assert mock.admin.store_fulfilment("STORE-BCN") == {"source_id": "STORE-BCN", "store_fulfilment": True}
    stock_only_at_store(mock)
    mock.client.call(ORDER_CREATE, order_params("S140", ("CAP-NAVY", "CAP-NAVY"), store="POS-BCN"))
    assert lines(mock, "S140")["L1"] == ("PICKREADY", "STORE-BCN")
    assert set(mock.admin.pick_list("STORE-BCN")["kind"]) == {"SHIP"}
    mock.admin.pick("S140", confirm=["L1", "L2"])
    boxes = [{"items": ["L1"], "details": {"name": "BOX-S", "weight": 0.3, "weight_unit": "kg"}}, {"items": ["L2"]}]
    done = mock.admin.pack("S140", packages=boxes)
    assert (done["order_status"], done["order_status_reason"]) == ("COMPLETE", "FULLYSHIPPED")
    (shipment,) = done["shipments"]
    assert [(p["items"], p["tracking_number"]) for p in shipment["packages"]] == [(["L1"], "JD0001"), (["L2"], "JD0002")]
    assert on_hand(mock, "STORE-BCN", "CAP-NAVY") == 1

    (call,) = carrier.log
    assert call["signature"] == "ok" and call["params"]["shipment"]["source_id"] == "STORE-BCN"
    assert [p["tracking_number"] for p in call["params"]["shipment"]["packages"]] == ["", ""]  # the carrier fills them in
    (row,) = mock.client.journal(method=DETAILS)
    assert row["status"] == "delivered" and row["caused_by"] == mock.client.journal(route="admin/pack")[0]["id"]
    mock.wait_idle()
    assert wms.log == []
    (sent,) = [e["params"]["shipment"] for e in mdc.log if e["method"] == SHIPMENT_DONE]
    assert sent["packages"][0]["tracking_link"] == "https://dhl.example/JD0001"
    valid(mdc)
    valid(carrier)


def test_a_declined_ship_from_store_line_is_resourced_or_cancelled(shop):
    mock, wms = shop[0], shop[1]
    mock.admin.store_fulfilment("STORE-BCN")
    stock_only_at_store(mock)
    mock.client.call(ORDER_CREATE, order_params("S150", ("CAP-NAVY", "CAP-NAVY"), store="POS-BCN"))
    assert mock.admin.pick("S150", decline=["L1"])["lines"] == {"L1": "CANCELLED"}  # nobody else has a cap
    mock.client.call(STOCK_UPDATE, {"snapshot": {"source_id": "WH-EAST", "mode": "DELTA", "stock": [{"sku": "CAP-NAVY", "quantity": 4}]}})
    assert mock.admin.pick("S150", decline=["L2"])["lines"] == {"L2": "RESOURCED"}
    state = {x["line_id"]: x for x in mock.client.state("order_lines", order_id="S150")}
    assert (state["L2"]["source_id"], state["L2"]["status_reason"], state["L2"]["request_id"]) == ("WH-EAST", "PICKDECLINED", "S150-2")
    wait_for(lambda: methods(wms, "S150") == [REQUEST_SHIPMENT], what="the re-sourced line's request to the warehouse")
    (request,) = [e["params"] for e in wms.log]
    assert request["items"][0]["status"] == "NEW" and request["source_id"] == "WH-EAST"
    assert held(mock, "STORE-BCN", "CAP-NAVY") == 0 and held(mock, "WH-EAST", "CAP-NAVY") == 1


def test_packing_needs_a_carrier_that_answers(mock, start_receiver):
    mock.admin.store_fulfilment("STORE-BCN")
    stock_only_at_store(mock)
    mock.client.call(ORDER_CREATE, order_params("S160", ("CAP-NAVY",), store="POS-BCN"))
    with pytest.raises(MomError) as refused:
        mock.admin.pack("S160")
    assert refused.value.code == -32005 and "Confirm the pick first" in refused.value.message
    mock.admin.pick("S160", confirm=["L1"])
    with pytest.raises(MomError) as refused:
        mock.admin.pack("S160")
    assert refused.value.code == -32004 and DETAILS in refused.value.message
    bad = start_receiver(id="carrier", handlers={DETAILS: lambda params: [{"carrier": "DHL"}]})
    bad.register(mock.client)
    with pytest.raises(MomError) as refused:
        mock.admin.pack("S160")
    assert refused.value.code == -32010 and "tracking" in refused.value.message
    assert lines(mock, "S160")["L1"] == ("PICKCONFIRMED", "STORE-BCN")
    assert [r["status"] for r in mock.client.journal(route="admin/pack")] == ["failed"]
    with pytest.raises(MomError) as refused:
        mock.admin.pack("S160", packages=[{"items": ["L9"]}])
    assert refused.value.code == -32602 and refused.value.path == "packages[0].items[0]"


def test_store_captures_like_a_warehouse_once_goods_leave(shop, start_receiver):
    from momlab import payments

    mock = shop[0]
    gateway = start_receiver(id="gateway", handlers={CAPTURE: lambda params: None})
    gateway.register(mock.client)
    params = payments.card_order_params("S170", ["TEE-ORG-S"], store="POS-BCN", shipping="PICKUP")
    params["order"]["lines"][0]["pickup_location"] = "STORE-BCN"
    mock.client.call(ORDER_CREATE, params)
    mock.admin.pick("S170", confirm=["1"])
    mock.admin.collect("S170")
    wait_for(lambda: [e["method"] for e in gateway.log] == [CAPTURE], what="the capture")
    assert gateway.log[0]["params"]["payment"]["order_id"] == "S170"


@pytest.mark.parametrize(("confirm", "decline", "code", "path"), [
    (["L9"], [], -32602, "confirm[0]"),
    (["L1"], ["L1"], -32602, "decline"),
    ([], [], -32602, "confirm"),
])
def test_pick_refuses_what_is_not_on_the_pick_list(mock, confirm, decline, code, path):
    mock.client.call(ORDER_CREATE, pickup_order("S180", ("TEE-ORG-S",)))
    with pytest.raises(MomError) as refused:
        mock.admin.pick("S180", confirm=confirm, decline=decline)
    assert (refused.value.code, refused.value.path) == (code, path)


def test_pick_refuses_lines_outside_the_in_store_interface_and_lines_picked_already(mock):
    mock.client.call(ORDER_CREATE, order_params("S190", ("TEE-ORG-S",)))  # a warehouse line
    with pytest.raises(MomError) as refused:
        mock.admin.pick("S190", confirm=["L1"])
    assert refused.value.code == -32005 and "WH-EAST" in refused.value.message
    mock.client.call(ORDER_CREATE, pickup_order("S191", ("TEE-ORG-S",)))
    mock.admin.pick("S191", confirm=["L1"])
    with pytest.raises(MomError) as refused:
        mock.admin.pick("S191", decline=["L1"])
    assert refused.value.code == -32005 and "PICKCONFIRMED" in refused.value.message
    with pytest.raises(MomError) as refused:
        mock.admin.collect("S190")
    assert refused.value.code == -32005
    with pytest.raises(MomError) as refused:
        mock.admin.pick("NO-SUCH", confirm=["L1"])
    assert refused.value.code == -32002


def test_store_fulfilment_is_for_stores_only(mock):
    with pytest.raises(MomError) as refused:
        mock.admin.store_fulfilment("WH-EAST")
    assert refused.value.code == -32602
    assert mock.admin.store_fulfilment("STORE-BCN", enabled=False)["store_fulfilment"] is False
