"""The message schemas are as strict as the sources allow, and the bus checks them first.

Each tightened rule has a refused variant below: a public example (tests/data/mom-examples) or a
catalog example with one value changed, sent over real HTTP to a real mock. The answer must be
JSON-RPC -32602 naming the changed spot, whatever state the message refers to: the mocks here are
empty (no order, no shipment request), and the to-MOM variants are sent again once the order and
its shipment request exist. The public examples themselves still validate
(tests/test_catalog.py::test_complete_examples_validate, tests/test_envelope.py).
"""

from __future__ import annotations

import copy
import json

import pytest

from momlab.bus import catalog
from momlab.topics import (
    AGGREGATE_UPDATED,
    AUTHORIZE_RETURN,
    CHANGE_STATUS,
    LINES_DECLINED,
    LINES_SHIPPED,
    ORDER_CREATE,
    REFUND_UPDATED,
    REQUEST_SHIPMENT,
    SHIPMENT_DONE,
    STOCK_UPDATE,
    UPDATED,
)
from tests.support.examples import load_example
from tests.support.mocks import wait_for
from tests.support.rpc import post, rpc, rpc_error

COMMENT = "magento.sales.order_management.create_comment"
SHIPPING_DETAILS = "magento.logistics.carrier_management.request_shipping_details"
CREATE_FILE = "magento.sales.order_management.create.json"
DROP = object()  # the bad "value": the key is removed


def _params(source: str) -> tuple[str, dict]:
    """(method, params) of a public example file (name ends in .json) or of a catalog message's example."""
    if source.endswith(".json"):
        doc = load_example(source)
        return doc["method"], copy.deepcopy(doc["params"])
    return source, catalog.example(source)


def _changed(params: dict, where: tuple, value) -> dict:
    target = params
    for step in where[:-1]:
        target = target[step]
    if value is DROP:
        del target[where[-1]]
    else:
        target[where[-1]] = copy.deepcopy(value)
    return params


def _path(where: tuple) -> str:
    out = "$.params"
    for step in where:
        out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


def row(source, where, value, words, path=None):
    """One refused variant: `where` is changed to `value`; the refusal names `path` (default: `where`)."""
    method = source[:-5] if source.endswith(".json") else source
    label = f"{method.rsplit('.', 1)[-1]}:{_path(where)[9:]}={'(dropped)' if value is DROP else json.dumps(value)[:20]}"
    return pytest.param(source, where, value, path or _path(where), words, id=label)


ORDER = ("order",)
LINE0 = (*ORDER, "lines", 0)
PKG0 = ("packages", 0)
AGG0 = (*PKG0, "aggregated_items", 0)
SHIP_ITEM = ("items", 0)

REFUSED = [
    # order_management.create: money as JSON numbers [code]
    row(CREATE_FILE, (*LINE0, "amount", "gross_amount"), "123.00", "must be a number (or null), got the string '123.00'"),
    row(CREATE_FILE, (*LINE0, "amount", "net_amount"), "123", "must be a number"),
    row(CREATE_FILE, (*LINE0, "amount", "taxes", 0, "rate"), "0%", "must be a number"),
    row(CREATE_FILE, (*ORDER, "payments", 0, "transactions", 0, "amount"), "128", "must be a number"),
    row(CREATE_FILE, (*LINE0, "promotions_info", "original_price"), "123", "must be a number"),
    row(CREATE_FILE, (*LINE0, "promotions_info", "promotions", 0, "discount"), "0", "must be a number"),
    # ... line numbers as whole numbers from 1 [code]
    row(CREATE_FILE, (*LINE0, "line_number"), "1", "must be a whole number, got the string '1'"),
    row(CREATE_FILE, (*ORDER, "lines", 1, "line_number"), 0, "must be at least 1"),
    # ... the documented customer types and SKU types
    row(CREATE_FILE, (*ORDER, "customer", "type"), "guest", "write 'GUEST'"),
    row(CREATE_FILE, (*ORDER, "customer", "type"), "VIP", "must be one of GUEST, REGISTERED"),
    row(CREATE_FILE, (*LINE0, "product_type"), "SIMPLE", "must be one of PHYSICAL, SHIPPING, SERVICE, VIRTUAL, BUNDLE"),
    row(CREATE_FILE, (*LINE0, "product_type"), "physical", "write 'PHYSICAL'"),
    # ... an address has a reference and a two-letter country
    row(CREATE_FILE, (*ORDER, "addresses", 0, "country_code"), DROP, "is required"),
    row(CREATE_FILE, (*ORDER, "addresses", 1, "country_code"), "USA", "two-letter country code"),
    row(CREATE_FILE, (*ORDER, "addresses", 0, "country_code"), None, "must be a string, got null"),
    row(CREATE_FILE, (*ORDER, "addresses", 1, "reference"), DROP, "is required"),
    row(CREATE_FILE, (*ORDER, "addresses", 0, "reference"), "", "must not be empty"),
    # ... dates in ISO-8601
    row(CREATE_FILE, (*ORDER, "origin_date"), "24/03/2018", "ISO-8601"),
    row(CREATE_FILE, (*LINE0, "pre_order_street_date"), "next spring", "ISO-8601"),
    # order_management.updated: documented order and line statuses, and status/reason pairs [doc]
    row(UPDATED, (*ORDER, "status"), "SHIPPED", "must be one of NEW, RECEIVED"),
    row(UPDATED, (*ORDER, "status_reason"), "PARTIALLYSHIPPED", "when status is LOGISTICS (the documented pairs)"),
    row(UPDATED, (*ORDER, "status_reason"), DROP, "is required when status is LOGISTICS"),
    row(UPDATED, (*LINE0, "status"), "PACKED", "must be one of NEW, ALLOCATEDSHIP"),
    row(UPDATED, (*LINE0, "amount"), {"gross_amount": "19.00"}, "must be a number", _path((*LINE0, "amount", "gross_amount"))),
    # lines_shipped: packages and items name lines; aggregated quantities are numbers of at least 1
    row(LINES_SHIPPED, ("packages",), [], "needs at least 1 entry"),
    row(LINES_SHIPPED, ("items",), [], "needs at least 1 entry"),
    row(LINES_SHIPPED, (*PKG0, "items"), [], "needs at least 1 entry"),
    row(LINES_SHIPPED, (*PKG0, "aggregated_items"), [], "needs at least 1 entry"),
    row(LINES_SHIPPED, (*AGG0, "quantity"), "1", "must be a number, got the string '1'"),
    row(LINES_SHIPPED, (*AGG0, "quantity"), 0, "must be at least 1"),
    row(LINES_SHIPPED, (*AGG0, "quantity"), DROP, "is required"),
    row(LINES_SHIPPED, (*AGG0, "order_lines"), DROP, "is required"),
    row(LINES_SHIPPED, (*AGG0, "order_lines"), [], "needs at least 1 entry"),
    row(LINES_SHIPPED, (*PKG0, "details", "weight"), "0.3 kg", "must be a number"),
    row(LINES_SHIPPED, (*SHIP_ITEM, "order_line_id"), None, "must be a string, got null"),
    row(LINES_SHIPPED, (*SHIP_ITEM, "item_type"), "SHIPPING", "must be one of PHYSICAL, SERVICE, VIRTUAL, BUNDLE"),
    row(LINES_SHIPPED, (*SHIP_ITEM, "status"), "CANCELLED", "must be one of SHIPPED"),
    row(LINES_SHIPPED, (*SHIP_ITEM, "order_line_price"), {"gross_amount": "19.00"}, "must be a number",
        _path((*SHIP_ITEM, "order_line_price", "gross_amount"))),
    row(LINES_SHIPPED, (*SHIP_ITEM, "status_date"), "yesterday", "ISO-8601"),
    # lines_change_status: line statuses, quantities as numbers, a line id that names a line
    row(CHANGE_STATUS, ("items", 0, "status"), "PICKING", "must be one of NEW, ALLOCATEDSHIP"),
    row(CHANGE_STATUS, ("items", 0, "status"), "receivedbylogistics", "write 'RECEIVEDBYLOGISTICS'"),
    row(CHANGE_STATUS, ("items", 0, "quantity"), "1", "must be a number"),
    row(CHANGE_STATUS, ("items", 0, "quantity"), -1, "must be at least 0"),
    row(CHANGE_STATUS, ("items", 0, "backorder_quantity"), "0", "must be a number"),
    row(CHANGE_STATUS, ("items", 0, "order_line_id"), "", "must not be empty"),
    row(CHANGE_STATUS, ("items", 0, "status_date"), "27.11.2026", "ISO-8601"),
    # source stock update: a batch block is complete [code]; created_on in ISO-8601
    row(STOCK_UPDATE, ("snapshot", "batch"), {"process_id": "run-1", "process_number": 1}, "is required",
        "$.params.snapshot.batch.process_total"),
    row(STOCK_UPDATE, ("snapshot", "batch"), {"process_id": None, "process_number": 1, "process_total": 2}, "must be a string",
        "$.params.snapshot.batch.process_id"),
    row(STOCK_UPDATE, ("snapshot", "created_on"), "this morning", "ISO-8601"),
    # return authorize: a return line names its order line
    row(AUTHORIZE_RETURN, ("return", "lines", 0, "id"), None, "must be a string, got null"),
    row(AUTHORIZE_RETURN, ("return", "lines", 0), {"id": "", "reason": "WRONG_SIZE"}, "must not be empty",
        "$.params.return.lines[0].id"),
    # create_comment
    row(COMMENT, ("order_comment", "created_date"), "today", "ISO-8601"),
    # what MOM sends, tried by a learner on /events: the same rules
    row(REQUEST_SHIPMENT, ("items", 0, "status"), "WAITING", "must be one of NEW"),
    row(REQUEST_SHIPMENT, ("aggregated_items", 0, "quantity"), "1", "must be a number"),
    row(REQUEST_SHIPMENT, ("items", 0, "order_line_price", "net_amount"), "19", "must be a number"),
    row(SHIPMENT_DONE, ("shipment", "items", 0, "status"), "DONE", "must be one of NEW"),
    row(SHIPMENT_DONE, ("shipment", "packages", 0, "details"), {"weight": "0.8"}, "must be a number",
        "$.params.shipment.packages[0].details.weight"),
    row(SHIPPING_DETAILS, ("shipment", "packages", 0, "aggregated_items", 0, "quantity"), 0, "must be at least 1"),
    row(SHIPPING_DETAILS, ("shipment", "packages", 0, "details", "height"), "5cm", "must be a number"),
    row(REFUND_UPDATED, ("refund", "lines", 0, "payments", 0, "details", "cost_gross"), "19.00", "must be a number"),
]


def _send(mock, method: str, params: dict):
    route = "/api" if catalog.get(method).direction == "to_mom" else "/events"
    return post(mock, route, rpc(method, params, id="strict"))


def _refused(answer, path: str, words: str) -> None:
    error = rpc_error(answer, -32602)
    assert answer.status_code == 422
    assert error["data"]["path"] == path, error
    problem = error["data"]["problems"][0]
    assert problem["path"] == path and words in problem["message"], problem


@pytest.fixture(scope="module")
def empty_mock(tmp_path_factory):
    """One mock for the whole table: every variant is refused before it can change anything."""
    from momlab.mock import Mock
    from tests.support.mocks import fast_config

    mock = Mock(tmp_path_factory.mktemp("strict") / "mom.sqlite", fast_config()).start()
    try:
        yield mock
    finally:
        mock.deliverer.stop()
        mock.stop()


def test_the_unchanged_examples_are_valid():
    sources = {p.values[0] for p in REFUSED}
    for source in sorted(sources):
        method, params = _params(source)
        assert catalog.validate(method, params) == [], source


@pytest.mark.parametrize("source,where,value,path,words", REFUSED)
def test_each_tightened_rule_refuses_its_variant_over_http(empty_mock, source, where, value, path, words):
    method, params = _params(source)
    _refused(_send(empty_mock, method, _changed(params, where, value)), path, words)


def test_nothing_refused_reached_a_flow(empty_mock):
    # after the table in file order (alone on its worker under xdist, it holds all the same): no order, nothing sent out
    assert empty_mock.client.state("orders") == []
    assert empty_mock.client.journal(direction="out") == []
    assert {row["status"] for row in empty_mock.client.journal(direction="in")} <= {"rejected"}


# -- the schema comes before any business check --------------------------------------------------------


def test_a_malformed_lines_shipped_for_an_unknown_request_is_a_schema_error(mock):
    params = catalog.example(LINES_SHIPPED)
    params["request_id"] = "NO-SUCH-REQUEST"
    # well formed: the business check answers (no such shipment request)
    error = rpc_error(post(mock, "/api", rpc(LINES_SHIPPED, params)), -32003)
    assert error["data"]["path"] == "$.params.request_id"
    # malformed: the schema answers first, whatever the request id refers to
    params["packages"][0]["aggregated_items"][0]["quantity"] = "one"
    _refused(post(mock, "/api", rpc(LINES_SHIPPED, params)), _path((*AGG0, "quantity")), "must be a number")
    # and on a route to a service that does not exist
    _refused(post(mock, "/remote/ghost", rpc(LINES_SHIPPED, params)), _path((*AGG0, "quantity")), "must be a number")


def test_malformed_messages_about_unknown_things_are_schema_errors(mock):
    cases = [
        (ORDER_CREATE, order_params_for("X-1", store="MARS"), (*LINE0, "line_number"), "1"),  # unknown channel
        (LINES_DECLINED, {"request_id": "NOPE-1", "items": [7]}, ("items", 0), 7),  # unknown request
        (CHANGE_STATUS, catalog.example(CHANGE_STATUS) | {"shipment_request_id": "NOPE-1"}, ("items", 0, "status"), "DONE"),
        (AUTHORIZE_RETURN, catalog.example(AUTHORIZE_RETURN), ("return", "lines", 0, "id"), ""),  # unknown order
        (COMMENT, catalog.example(COMMENT), ("order_comment", "created_date"), "soon"),  # unknown order
        (STOCK_UPDATE, {"snapshot": {"source_id": "NOWHERE", "mode": "DELTA", "stock": [{"sku": "A", "quantity": "3"}]}},
         ("snapshot", "stock", 0, "quantity"), "3"),  # unknown source
    ]
    for method, params, where, bad in cases:
        answer = post(mock, "/api", rpc(method, _changed(copy.deepcopy(params), where, bad)))
        assert rpc_error(answer, -32602)["data"]["path"] == _path(where), method


def order_params_for(order_id: str, store: str | None = "WEB-US") -> dict:
    params = catalog.example(ORDER_CREATE)
    params["order"]["id"] = order_id
    params["order"]["store"] = store
    return params


def test_the_same_variants_are_refused_once_the_order_exists(mock):
    """The catalog examples tell one order story: with that order placed and its shipment request
    made, each to-MOM variant is still refused by the schema, not by a flow."""
    result = mock.client.call(ORDER_CREATE, catalog.example(ORDER_CREATE))
    assert catalog.example(LINES_SHIPPED)["request_id"] in result["shipment_requests"], result
    checked = 0
    for case in REFUSED:
        source, where, value, path, words = case.values
        method, params = _params(source)
        if catalog.get(method).direction == "to_mom" and method != ORDER_CREATE:
            _refused(_send(mock, method, _changed(params, where, value)), path, words)
            checked += 1
    assert checked > 20
    lines = mock.client.state("order_lines", order_id=result["order_id"])
    assert {line["status"] for line in lines if line["line_id"] != "SHIPPING"} == {"NEW"}, lines  # nothing shipped or changed


# -- what the mock itself sends keeps to the same rules ------------------------------------------------


def test_a_partly_shipped_then_declined_order_sends_only_documented_statuses(mock, start_receiver):
    wms = start_receiver(id="wms", handlers={REQUEST_SHIPMENT: lambda params: None})
    mdc = start_receiver(id="mdc", handlers={UPDATED: lambda params: None, SHIPMENT_DONE: lambda params: None,
                                             AGGREGATE_UPDATED: lambda params: None})
    wms.register(mock.client)
    mdc.register(mock.client)
    params = order_params_for("STRICT-1")
    second = copy.deepcopy(params["order"]["lines"][0])
    second.update(id="2", sku="TEE-ORG-M", product_name="Organic cotton tee M")
    params["order"]["lines"].insert(1, second)
    for number, line in enumerate(params["order"]["lines"], start=1):
        line["line_number"] = number
    (request_id,) = mock.client.call(ORDER_CREATE, params)["shipment_requests"]
    mock.client.call(LINES_SHIPPED, {"request_id": request_id, "items": [{"order_line_id": "1"}]})
    mock.client.call(LINES_DECLINED, {"request_id": request_id, "items": ["2"]})
    wait_for(lambda: len([e for e in mdc.log if e["method"] == UPDATED]) >= 5, what="the order's updates at mdc")
    rows = [r for r in mock.client.journal(direction="out") if r["order_id"] == "STRICT-1"]
    for entry in rows:
        assert catalog.validate(entry["method"], entry["body"]["params"]) == [], entry["method"]
    updates = [(e["params"]["order"]["status"], e["params"]["order"]["status_reason"]) for e in mdc.log if e["method"] == UPDATED]
    assert ("LOGISTICS", "PARTIALLYSHIPPED") not in updates, updates
    assert updates[-2:] == [("LOGISTICSCOMPLETE", "PARTIALLYSHIPPED"), ("COMPLETE", "PARTIALLYSHIPPED")], updates
