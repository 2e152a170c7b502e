"""The order flow on real state: create -> request_shipment -> lines_* -> customer_shipment_done -> updated."""

from __future__ import annotations

import pytest

from momlab import MomClient, MomError
from momlab.bus import catalog
from momlab.topics import (
    CHANGE_STATUS,
    LINES_DECLINED,
    LINES_SHIPPED,
    ORDER_CREATE,
    REQUEST_SHIPMENT,
    SHIPMENT_DONE,
    UPDATED,
)
from tests.support.builders import order_params
from tests.support.mocks import deliveries, wait_delivered, wait_for
from tests.support.rpc import post, rpc, rpc_error

PACKAGE = {"id": "PKG-1", "carrier": "UPS", "tracking_number": "1Z999", "tracking_link": "https://ups.example/1Z999",
           "details": {"weight": 1.2, "weight_unit": "kg"}}


@pytest.fixture
def shop(mock, start_receiver):
    """A mock with a warehouse (wms) and a sales channel connector (mdc) registered."""
    wms = start_receiver(id="wms", secret="wms-secret", handlers={REQUEST_SHIPMENT: lambda params: None})
    mdc = start_receiver(id="mdc", secret="mdc-secret", handlers={UPDATED: lambda p: None, SHIPMENT_DONE: lambda p: None})
    wms.register(mock.client)
    mdc.register(mock.client)
    return mock, wms, mdc


def received(receiver, method, count):
    wait_for(lambda: len([e for e in receiver.log if e["method"] == method]) >= count, what=f"{count} x {method} at {receiver.id}")
    return [e for e in receiver.log if e["method"] == method]


def statuses(mock, order_id):
    return {line["line_id"]: (line["status"], line["status_reason"]) for line in mock.client.state("order_lines", order_id=order_id)}


def order_status(mock, order_id):
    (order,) = [o for o in mock.client.state("orders") if o["id"] == order_id]
    return order["status"], order["status_reason"]


def assert_outbound_valid(mock):
    rows = deliveries(mock)
    assert rows
    for row in rows:
        assert catalog.validate(row["method"], row["body"]["params"]) == [], row["method"]


def test_create_stores_the_order_and_asks_the_warehouse(shop):
    mock, wms, mdc = shop
    result = mock.client.call(ORDER_CREATE, order_params("100001", ("TEE-ORG-S", "TEE-ORG-S", "MUG-ENAMEL")))
    assert result == {"order_id": "100001", "sales_channel": "WEB-US", "status": "LOGISTICS", "shipment_requests": ["100001-1"]}
    assert order_status(mock, "100001") == ("LOGISTICS", "READYTOSHIP")

    (request,) = received(wms, REQUEST_SHIPMENT, 1)
    params = request["params"]
    assert params["request_id"] == "100001-1" and params["order_id"] == "100001" and params["source_id"] == "WH-EAST"
    assert params["sales_channel"] == "WEB-US"
    assert [i["order_line_id"] for i in params["items"]] == ["L1", "L2", "L3"]  # not the shipping line
    assert {i["status"] for i in params["items"]} == {"NEW"}
    assert sorted((a["sku"], a["quantity"], a["order_lines"]) for a in params["aggregated_items"]) == [
        ("MUG-ENAMEL", 1, ["L3"]), ("TEE-ORG-S", 2, ["L1", "L2"])]
    assert params["shipping_address"]["last_name"] == "Lovelace"
    assert request["signature"] == "ok"

    updates = received(mdc, UPDATED, 2)
    assert [(u["params"]["order"]["status"], u["params"]["order"]["status_reason"]) for u in updates] == [
        ("RECEIVED", "IMPORTED"), ("LOGISTICS", "READYTOSHIP")]
    last_lines = {line["id"]: line for line in updates[-1]["params"]["order"]["lines"]}
    assert last_lines["L1"]["status"] == "NEW" and last_lines["L1"]["source_id"] == "WH-EAST"
    assert statuses(mock, "100001")["L1"] == ("NEW", "ITEM_PENDING_PICKING")
    (stored,) = mock.client.state("shipment_requests")
    assert stored["id"] == "100001-1" and stored["body"] == params
    assert_outbound_valid(mock)


def test_lines_go_to_the_source_that_has_them(shop):
    mock, wms, _ = shop
    # HOOD-GRY-M: none at WH-EAST, one at WH-WEST (data/stock.csv)
    result = mock.client.call(ORDER_CREATE, order_params("100002", ("TEE-ORG-S", "HOOD-GRY-M")))
    assert result["shipment_requests"] == ["100002-1", "100002-2"]
    requests_ = received(wms, REQUEST_SHIPMENT, 2)
    assert {r["params"]["source_id"]: [i["sku"] for i in r["params"]["items"]] for r in requests_} == {
        "WH-EAST": ["TEE-ORG-S"], "WH-WEST": ["HOOD-GRY-M"]}


def test_full_shipment_completes_the_order(shop):
    mock, wms, mdc = shop
    mock.client.call(ORDER_CREATE, order_params("100003", ("TEE-ORG-S", "CAP-NAVY")))
    received(wms, REQUEST_SHIPMENT, 2)
    (east,) = [r for r in mock.client.state("shipment_requests") if r["source_id"] == "WH-EAST"]
    (west,) = [r for r in mock.client.state("shipment_requests") if r["source_id"] == "WH-WEST"]

    first = mock.client.call(LINES_SHIPPED, {"request_id": east["id"], "items": [{"order_line_id": "L1"}], "packages": [PACKAGE]})
    assert first["order_status"] == "LOGISTICS" and first["lines"] == ["L1"]
    assert order_status(mock, "100003") == ("LOGISTICS", "READYTOSHIP")
    # the other request names its lines only inside the package
    package = {**PACKAGE, "id": "PKG-2", "aggregated_items": [{"sku": "CAP-NAVY", "quantity": 1, "order_lines": ["L2"]}]}
    second = mock.client.call(LINES_SHIPPED, {"request_id": west["id"], "packages": [package]})
    assert second["order_status"] == "COMPLETE"
    assert order_status(mock, "100003") == ("COMPLETE", "FULLYSHIPPED")
    assert statuses(mock, "100003") == {"L1": ("SHIPPED", "OSREPORT"), "L2": ("SHIPPED", "OSREPORT"),
                                        "SHIPPING": ("NEW", "INITIALORDER")}

    done = received(mdc, SHIPMENT_DONE, 2)
    shipment = done[0]["params"]["shipment"]
    assert shipment["order_id"] == "100003" and shipment["source_id"] == "WH-EAST" and shipment["method"] == "STANDARD"
    assert [(i["order_line_id"], i["status"]) for i in shipment["items"]] == [("L1", "SHIPPED")]
    assert shipment["packages"][0]["tracking_number"] == "1Z999"
    assert shipment["address"]["city"] == "Springfield"
    updates = received(mdc, UPDATED, 5)
    # the last shipment takes the order through LOGISTICSCOMPLETE (both pairs documented) to COMPLETE
    assert [(u["params"]["order"]["status"], u["params"]["order"]["status_reason"]) for u in updates[-2:]] == [
        ("LOGISTICSCOMPLETE", "FULLYSHIPPED"), ("COMPLETE", "FULLYSHIPPED")]
    final = updates[-1]["params"]["order"]
    assert {line["id"]: line["status"] for line in final["lines"]}["L2"] == "SHIPPED"
    # the shipment done comes before the order updates that it caused
    methods = [r["method"] for r in deliveries(mock, remote="mdc")]
    assert methods[-3:] == [SHIPMENT_DONE, UPDATED, UPDATED]
    assert len(mock.client.state("shipments")) == 2
    assert {r["status"] for r in mock.client.state("shipment_requests")} == {"COMPLETE"}
    assert_outbound_valid(mock)


def test_partial_shipment(shop):
    mock, _, mdc = shop
    mock.client.call(ORDER_CREATE, order_params("100004", ("TEE-ORG-S", "TEE-ORG-M")))
    result = mock.client.call(LINES_SHIPPED, {"request_id": "100004-1", "items": [{"order_line_number": 2}]})
    assert result["lines"] == ["L2"] and result["order_status"] == "LOGISTICS"
    assert order_status(mock, "100004") == ("LOGISTICS", "READYTOSHIP")
    assert statuses(mock, "100004")["L1"] == ("NEW", "ITEM_PENDING_PICKING")
    final = received(mdc, UPDATED, 3)[-1]["params"]["order"]
    assert (final["status"], final["status_reason"]) == ("LOGISTICS", "READYTOSHIP")


def test_shipping_a_line_twice_is_a_conflict(shop):
    mock, _, _ = shop
    mock.client.call(ORDER_CREATE, order_params("100005", ("TEE-ORG-S", "TEE-ORG-L")))
    mock.client.call(LINES_SHIPPED, {"request_id": "100005-1", "items": [{"order_line_id": "L1"}]})
    before = len(mock.client.journal())
    answer = post(mock, "/api", rpc(LINES_SHIPPED, {"request_id": "100005-1", "items": [{"order_line_id": "L2"}, {"order_line_id": "L1"}]}))
    assert answer.status_code == 409
    error = rpc_error(answer, -32005)
    assert error["data"]["path"] == "$.params.items[1]"
    assert "L1" in error["message"] and "SHIPPED" in error["message"]
    # nothing of the refused message was applied: L2 is still open, nothing new was sent
    assert statuses(mock, "100005")["L2"] == ("NEW", "ITEM_PENDING_PICKING")
    assert len(mock.client.journal()) == before + 1


def test_shipment_errors_name_the_line(shop):
    mock, _, _ = shop
    mock.client.call(ORDER_CREATE, order_params("100006"))
    error = rpc_error(post(mock, "/api", rpc(LINES_SHIPPED, {"request_id": "100006-1", "items": [{"order_line_id": "L9"}]})), -32602)
    assert error["data"]["path"] == "$.params.items[0]" and "L1" in error["message"]
    error = rpc_error(post(mock, "/api", rpc(LINES_SHIPPED, {"request_id": "100006-1", "items": [{"order_line_id": "L1"}, {"order_line_id": "L1"}]})), -32602)
    assert "twice" in error["message"]
    error = rpc_error(post(mock, "/api", rpc(LINES_SHIPPED, {"request_id": "100006-9", "items": [{"order_line_id": "L1"}]})), -32003)
    assert error["data"]["path"] == "$.params.request_id" and "request_shipment" in error["message"]


def test_lines_declined_cancels_lines(shop):
    mock, _, mdc = shop
    mock.client.call(ORDER_CREATE, order_params("100007", ("TEE-ORG-S", "TEE-ORG-L")))
    result = mock.client.call(LINES_DECLINED, {"request_id": "100007-1", "items": ["L2"]})
    assert result["cancelled"] == ["L2"]
    assert statuses(mock, "100007")["L2"] == ("CANCELLED", "OUTOFSTOCK")
    assert order_status(mock, "100007") == ("LOGISTICS", "READYTOSHIP")
    mock.client.call(LINES_DECLINED, {"request_id": "100007-1", "items": ["L1"]})
    assert order_status(mock, "100007") == ("COMPLETE", "FULLYCANCELLED")
    final = received(mdc, UPDATED, 4)[-1]["params"]["order"]
    assert {line["id"]: line["status"] for line in final["lines"]} == {"L1": "CANCELLED", "L2": "CANCELLED", "SHIPPING": "NEW"}
    error = rpc_error(post(mock, "/api", rpc(LINES_DECLINED, {"request_id": "100007-1", "items": ["L1"]})), -32005)
    assert "CANCELLED" in error["message"]


def test_shipped_and_declined_make_a_partly_shipped_complete_order(shop):
    mock, _, _ = shop
    mock.client.call(ORDER_CREATE, order_params("100008", ("TEE-ORG-S", "TEE-ORG-L")))
    mock.client.call(LINES_SHIPPED, {"request_id": "100008-1", "items": [{"order_line_id": "L1"}]})
    mock.client.call(LINES_DECLINED, {"request_id": "100008-1", "items": ["L2"]})
    assert order_status(mock, "100008") == ("COMPLETE", "PARTIALLYSHIPPED")
    assert_outbound_valid(mock)


def test_lines_change_status(shop):
    mock, _, mdc = shop
    mock.client.call(ORDER_CREATE, order_params("100009", ("TEE-ORG-S", "TEE-ORG-L")))
    result = mock.client.call(CHANGE_STATUS, {"shipment_request_id": "100009-1", "items": [
        {"order_line_id": "L1", "status": "RECEIVEDBYLOGISTICS", "status_reason": "OSREPORTREC"},
        {"order_line_number": "2", "status": "RECEIVEDBYLOGISTICS"}]})
    assert result == {"shipment_request_id": "100009-1", "lines": ["L1", "L2"]}
    assert statuses(mock, "100009")["L1"] == ("RECEIVEDBYLOGISTICS", "OSREPORTREC")
    assert statuses(mock, "100009")["L2"][0] == "RECEIVEDBYLOGISTICS"
    update = received(mdc, UPDATED, 3)[-1]["params"]["order"]
    assert {line["id"]: line["status"] for line in update["lines"]}["L1"] == "RECEIVEDBYLOGISTICS"
    mock.client.call(LINES_SHIPPED, {"request_id": "100009-1", "items": [{"order_line_id": "L1"}]})
    error = rpc_error(post(mock, "/api", rpc(CHANGE_STATUS, {"shipment_request_id": "100009-1", "items": [
        {"order_line_id": "L1", "status": "PICKREADY"}]})), -32005)
    assert error["data"]["path"] == "$.params.items[0]"
    error = rpc_error(post(mock, "/api", rpc(CHANGE_STATUS, {"shipment_request_id": "nope", "items": [
        {"order_line_id": "L1", "status": "PICKREADY"}]})), -32003)
    assert error["data"]["path"] == "$.params.shipment_request_id"


def test_duplicate_order_id(shop):
    mock, wms, _ = shop
    mock.client.call(ORDER_CREATE, order_params("100010"))
    with pytest.raises(MomError) as refused:
        mock.client.call(ORDER_CREATE, order_params("100010", ("MUG-ENAMEL",)))
    assert refused.value.code == -32005 and refused.value.path == "$.params.order.id"
    assert refused.value.http_status == 409
    assert [line["sku"] for line in mock.client.state("order_lines", order_id="100010")] == ["TEE-ORG-S", "STANDARD"]
    received(wms, REQUEST_SHIPMENT, 1)
    assert len(deliveries(mock, method=REQUEST_SHIPMENT)) == 1


def test_unknown_sales_channel(mock):
    error = rpc_error(post(mock, "/api", rpc(ORDER_CREATE, order_params("100011", store="NOPE"))), -32004)
    assert error["data"]["path"] == "$.params.order.store"
    assert "WEB-US" in error["message"]  # lists the channels that exist
    assert mock.client.state("orders") == []


def test_order_without_store_uses_the_default_channel(mock):
    assert mock.client.call(ORDER_CREATE, order_params("100012", store=None))["sales_channel"] == "WEB-US"


def test_retail_channel_sources_from_its_own_aggregate(mock):
    # POS-BCN sells from AGG-RETAIL (WH-EAST, then STORE-BCN); WH-WEST, with 40 towels, is not part of it
    result = mock.client.call(ORDER_CREATE, order_params("100013", ("TOWEL-LINEN",), store="POS-BCN"))
    (request,) = mock.client.state("shipment_requests")
    assert result["sales_channel"] == "POS-BCN"
    assert request["source_id"] == "WH-EAST"  # it has the one TOWEL-LINEN


def test_duplicate_line_ids_are_refused(mock):
    params = order_params("100014", ("TEE-ORG-S", "TEE-ORG-M"))
    params["order"]["lines"][1]["id"] = "L1"
    error = rpc_error(post(mock, "/api", rpc(ORDER_CREATE, params)), -32602)
    assert error["data"]["path"] == "$.params.order.lines[1].id"


def test_create_comment(mock):
    mock.client.call(ORDER_CREATE, order_params("100015"))
    answer = mock.client.call("magento.sales.order_management.create_comment",
                              {"order_comment": {"order_id": "100015", "comment": "Leave at the door", "user": "cs"}})
    assert answer == {"order_id": "100015", "accepted": True}


def test_a_warehouse_that_ships_from_its_handler(mock, start_receiver):
    """The learner's usual warehouse: answer request_shipment by shipping every line."""
    shipper = MomClient(mock.url)

    def ship(params):
        shipper.call(LINES_SHIPPED, {"request_id": params["request_id"],
                                     "items": [{"order_line_id": i["order_line_id"]} for i in params["items"]]})
        return {"accepted": True}

    wms = start_receiver(id="wms", handlers={REQUEST_SHIPMENT: ship})
    wms.register(mock.client)
    mock.client.call(ORDER_CREATE, order_params("100016", ("TEE-ORG-S", "BAG-TOTE")))
    wait_for(lambda: order_status(mock, "100016") == ("COMPLETE", "FULLYSHIPPED"), what="the order to complete")
    (delivered,) = wait_delivered(mock, REQUEST_SHIPMENT)  # the handler answered after it shipped
    assert delivered["response"]["result"] == {"accepted": True}
    assert [e["outcome"] for e in wms.log] == ["ok"]
    assert_outbound_valid(mock)


def test_order_journal_rows_carry_the_order_id(shop):
    mock, _, _ = shop
    mock.client.call(ORDER_CREATE, order_params("100017"))
    mock.client.call(LINES_SHIPPED, {"request_id": "100017-1", "items": [{"order_line_id": "L1"}]})
    rows = mock.client.journal(order_id="100017")
    methods = {r["method"] for r in rows}
    assert {ORDER_CREATE, LINES_SHIPPED, UPDATED, REQUEST_SHIPMENT, SHIPMENT_DONE} <= methods
