"""The JSON-RPC 2.0 envelope as MIB accepts it, over real HTTP: codes, messages, paths, limits."""

from __future__ import annotations

import copy
import json

import pytest
import requests

from momlab.bus import catalog, jsonrpc
from momlab.topics import ORDER_CREATE, REGISTER, UNREGISTER
from tests.support.builders import order_params
from tests.support.examples import complete_examples, load_example
from tests.support.mocks import wait_for
from tests.support.rpc import RPC_ROUTES, post, rpc, rpc_error

MIB = 1024 * 1024


# -- params, batches, notifications -----------------------------------------------------------------


def test_positional_params_are_invalid_params(mock):
    error = rpc_error(post(mock, "/api", rpc(UNREGISTER, ["wms"])), -32602)
    assert error["data"]["path"] == "$.params"
    assert "object" in error["message"]


def test_string_params_are_an_invalid_request(mock):
    answer = post(mock, "/api", rpc(UNREGISTER, "wms"))
    assert answer.status_code == 400
    error = rpc_error(answer, -32600)
    assert error["data"]["path"] == "$.params"


@pytest.mark.parametrize("batch", [[], [{"jsonrpc": "2.0", "id": 1, "method": UNREGISTER, "params": {"id": "x"}}]])
def test_batches_are_refused_with_a_clear_message(mock, batch):
    answer = post(mock, "/api", batch)
    assert answer.status_code == 400
    error = rpc_error(answer, -32600)
    assert "Batch" in error["message"] and "each message" in error["message"]
    assert answer.json()["id"] is None


def test_a_request_without_id_is_a_notification_and_is_still_processed(mock):
    answer = post(mock, "/api", rpc(ORDER_CREATE, order_params("N-1"), id=None))
    assert answer.status_code == 204
    assert answer.content == b""
    assert [o["id"] for o in mock.client.state("orders")] == ["N-1"]


def test_a_refused_notification_gets_no_body_but_is_journaled(mock):
    answer = post(mock, "/api", rpc(UNREGISTER, {"id": "nobody"}, id=None))
    assert answer.status_code == 204 and answer.content == b""
    assert "nobody" in answer.headers["X-Momlab-Error"]
    row = mock.client.journal(method=UNREGISTER)[-1]
    assert row["status"] == "rejected" and row["error_code"] == -32004


def test_id_null_is_a_request_not_a_notification(mock):
    answer = post(mock, "/api", rpc(UNREGISTER, {"id": "nobody"}, id=None) | {"id": None})
    assert answer.json()["id"] is None
    rpc_error(answer, -32004)


@pytest.mark.parametrize("request_id", ["abc-1", 7, 2.5])
def test_the_answer_echoes_the_id(mock, request_id):
    answer = post(mock, "/api", rpc("magento.inventory.source_repository.search", {}, id=request_id))
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["id"] == request_id and "result" in doc and "error" not in doc


# -- the standard error codes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, code, path",
    [
        (b'{"jsonrpc": "2.0", "id": 1, "method": ', -32700, "$"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "x", "params": {}}\xff', -32700, "$"),
        ('{"jsonrpc":"2.0","id":1,"method":"caf\u00e9","params":{}}'.encode("latin-1"), -32700, "$"),
        (json.dumps({"id": 1, "method": UNREGISTER, "params": {"id": "x"}}).encode(), -32600, "$.jsonrpc"),
        (json.dumps({"jsonrpc": "1.0", "id": 1, "method": UNREGISTER, "params": {"id": "x"}}).encode(), -32600, "$.jsonrpc"),
        (json.dumps({"jsonrpc": 2.0, "id": 1, "method": UNREGISTER, "params": {"id": "x"}}).encode(), -32600, "$.jsonrpc"),
        (json.dumps({"jsonrpc": "2.0", "id": 1, "params": {}}).encode(), -32600, "$.method"),
        (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "", "params": {}}).encode(), -32600, "$.method"),
        (json.dumps({"jsonrpc": "2.0", "id": 1, "method": 42, "params": {}}).encode(), -32600, "$.method"),
        (json.dumps({"jsonrpc": "2.0", "id": {"a": 1}, "method": UNREGISTER, "params": {"id": "x"}}).encode(), -32600, "$.id"),
        (json.dumps({"jsonrpc": "2.0", "id": True, "method": UNREGISTER, "params": {"id": "x"}}).encode(), -32600, "$.id"),
        (json.dumps({"jsonrpc": "2.0", "id": [1], "method": UNREGISTER, "params": {"id": "x"}}).encode(), -32600, "$.id"),
    ],
)
def test_envelope_errors(mock, body, code, path):
    answer = post(mock, "/api", body)
    assert answer.status_code == 400
    error = rpc_error(answer, code)
    assert error["data"]["path"] == path
    if code == -32600 and path != "$.id":
        assert answer.json()["id"] == 1  # a usable id is echoed even when the rest is wrong


def test_parse_error_says_where(mock):
    error = rpc_error(post(mock, "/api", b'{"jsonrpc": "2.0",\n "id": 1,,}'), -32700)
    assert error["data"]["line"] == 2
    assert "line 2" in error["message"]


def test_unknown_method(mock):
    answer = post(mock, "/api", rpc("magento.sales.order_management.cancel_everything", {}))
    assert answer.status_code == 404
    error = rpc_error(answer, -32601)
    assert error["data"]["path"] == "$.method"
    assert "cancel_everything" in error["message"]


def test_wrong_case_method_gets_a_suggestion(mock):
    error = rpc_error(post(mock, "/api", rpc("Magento.Sales.Order_Management.Create", {"order": {}})), -32601)
    assert ORDER_CREATE in error["data"]["suggestions"]
    assert ORDER_CREATE in error["message"] and "case-sensitive" in error["message"]


def test_schema_failure_names_path_and_problems(mock):
    params = order_params("S-1")
    del params["order"]["lines"][0]["sku"]
    params["order"]["customer"] = "guest"
    answer = post(mock, "/api", rpc(ORDER_CREATE, params))
    assert answer.status_code == 422
    error = rpc_error(answer, -32602)
    paths = [p["path"] for p in error["data"]["problems"]]
    assert "$.params.order.lines[0].sku" in paths and "$.params.order.customer" in paths
    assert error["data"]["path"] == paths[0]
    assert error["data"]["path"] in error["message"]
    assert all(p["message"] for p in error["data"]["problems"])
    assert mock.client.state("orders") == []


# -- business errors --------------------------------------------------------------------------------


def test_business_errors_use_the_server_range(mock):
    client = mock.client
    cases = [
        (rpc("magento.sales.order_management.create_comment", {"order_comment": {"order_id": "NOPE", "comment": "hi"}}), -32002, "$.params.order_comment.order_id"),
        (rpc("magento.logistics.warehouse_management.lines_shipped", {"request_id": "NOPE-1", "items": [{"order_line_id": "L1"}]}), -32003, "$.params.request_id"),
        (rpc(ORDER_CREATE, order_params("B-1", store="MARS")), -32004, "$.params.order.store"),
        (rpc("magento.inventory.source_stock_management.update", {"snapshot": {"source_id": "NOWHERE", "mode": "DELTA", "stock": []}}), -32004, "$.params.snapshot.source_id"),
        (rpc(UNREGISTER, {"id": "ghost"}), -32004, "$.params.id"),
    ]
    for body, code, path in cases:
        answer = post(mock, "/api", body)
        error = rpc_error(answer, code)
        assert -32099 <= code <= -32000
        assert error["data"]["path"] == path, error
        assert answer.status_code in (404, 409), answer.status_code
    client.call(ORDER_CREATE, order_params("B-2"))
    answer = post(mock, "/api", rpc(ORDER_CREATE, order_params("B-2")))
    assert answer.status_code == 409
    error = rpc_error(answer, -32005)
    assert error["data"]["path"] == "$.params.order.id" and "B-2" in error["message"]


def test_unknown_remote_service(mock):
    for route in ("/remote/ghost", "/delegate/ghost"):
        error = rpc_error(post(mock, route, rpc(UNREGISTER, {"id": "x"})), -32004)
        assert "ghost" in error["message"] and "oms" in error["message"]


def test_oms_does_not_receive_its_own_outbound_messages(mock):
    params = {"snapshot": {"aggregate_id": "AGG-WEB", "stock": [{"sku": "TEE-ORG-S", "quantity": 1}]}}
    error = rpc_error(post(mock, "/remote/oms", rpc("magento.inventory.aggregate_stock_management.updated", params)), -32601)
    assert "/events" in error["message"]


# -- size limit -------------------------------------------------------------------------------------


def test_body_over_one_mebibyte_with_content_length(mock):
    body = json.dumps(rpc(REGISTER, {"id": "big", "url": "http://127.0.0.1:1/x", "pad": "x" * MIB})).encode()
    answer = post(mock, "/api", body)
    assert answer.status_code == 413
    error = rpc_error(answer, -32006)
    assert "1 MiB" in error["message"]
    assert mock.client.state("remotes") == []


def test_body_over_one_mebibyte_chunked(mock):
    def chunks():
        yield b'{"jsonrpc":"2.0","id":1,"method":"magento.service_bus.remote.register","params":{"pad":"'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}}'

    answer = post(mock, "/api", chunks())
    assert answer.request.headers.get("Transfer-Encoding") == "chunked"
    assert answer.status_code == 413
    rpc_error(answer, -32006)
    # the server is still healthy afterwards
    assert requests.get(mock.url + "/health", timeout=5).json()["status"] == "ok"


def test_body_just_under_the_limit_is_read(mock):
    params = {"id": "padded", "url": "http://127.0.0.1:9/mom", "pad": "z" * (MIB - 200)}
    answer = post(mock, "/api", rpc(REGISTER, params))
    assert answer.status_code == 200, answer.text[:300]
    assert [r["id"] for r in mock.client.state("remotes")] == ["padded"]


# -- no input produces a 5xx ------------------------------------------------------------------------

NASTY = [
    b"",
    b"   \n\t ",
    b"null",
    b"[]",
    b"[1]",
    b'"x"',
    b"123",
    b"true",
    b"{}",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    # nested just less deep than orjson reads, deeper than the bus can walk
    b'{"jsonrpc":"2.0","id":1,"method":"magento.service_bus.remote.unregister","params":{"id":' + b"[" * 1015 + b"]" * 1015 + b"}}",
    b'{"jsonrpc":"2.0","id":1,"method":"m","params":{"n":1' + b"0" * 5000 + b"}}",
    b'{"jsonrpc":"2.0","id":1' + b"0" * 5000 + b',"method":"m","params":{}}',
    b'{"jsonrpc":"2.0","id":1e999,"method":"magento.service_bus.remote.unregister","params":{"id":"x"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"magento.service_bus.remote.unregister","params":{"id":NaN}}',
    b'{"jsonrpc":"2.0","id":NaN,"method":"magento.service_bus.remote.unregister","params":{"id":"x"}}',
    b'{"jsonrpc":"2.0","id":-Infinity,"method":"magento.service_bus.remote.unregister","params":{"id":"x"}}',
    b"\xff\xfe\x00{",
    b'{"jsonrpc":"2.0","id":1,"method":"\xc3\x28","params":{}}',
    b'{"jsonrpc":"2.0","id":"\\ud800","method":"magento.service_bus.remote.unregister","params":{"id":"x"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"magento.service_bus.remote.unregister","params":{"id":"\\udc00"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"magento.service_bus.remote.unregister","params":{"id":"\xed\xa0\x80"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"\\ud83d","params":{}}',
    '{"jsonrpc":"2.0","id":1,"method":"\ud800","params":{}}'.encode("utf-16", "surrogatepass"),
    b"\xef\xbb\xbf" + json.dumps({"jsonrpc": "2.0", "id": 1, "method": UNREGISTER, "params": {"id": "x"}}).encode(),
    b'{"jsonrpc":"2.0","method":"\\ud83d","params":{}}',
    b'{"jsonrpc":"2.0","id":1,"method":"magento.service_bus.remote.unregister","params":{"id":"x\\u0000y"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"magento.service_bus.remote.unregister","params":{"id":"' + b"x" * (2 * MIB) + b'"}}',
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": "magento.\u00e9v\u00e9nement.\u8ba2\u5355.\U0001f4e6", "params": {}}).encode(),
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": "   ", "params": {}}).encode(),
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": UNREGISTER, "params": None}).encode(),
    json.dumps({"jsonrpc": "2.0", "method": UNREGISTER, "params": None}).encode(),
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": ORDER_CREATE, "params": {"order": {"id": "x" * 100_000, "lines": [{"id": 1}]}}}).encode(),
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": ORDER_CREATE, "params": {"order": {"id": "Q", "lines": [{"id": "1", "line_number": 1, "sku": "\U0001f4e6", "status": None}] * 3}}}).encode(),
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": "magento.inventory.source_stock_management.update",
                "params": {"snapshot": {"source_id": "WH-EAST", "mode": "DELTA", "stock": [{"sku": "A", "quantity": 1e308}]}}}).encode(),
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": "magento.inventory.source_stock_management.update",
                "params": {"snapshot": {"source_id": "WH-EAST", "mode": "NONZERO", "stock": [],
                                        "batch": {"process_id": None, "process_number": 2**70, "process_total": -1}}}}).encode(),
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": REGISTER, "params": {"id": "r", "url": "http://[::1"}}).encode(),
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": REGISTER, "params": {"id": "r", "url": "http://" + "a" * 5000}}).encode(),
    json.dumps({"jsonrpc": "2.0", "id": 1, "method": "magento.inventory.source_repository.search",
                "params": {"offset": -5, "size": 10**30, "query": {"id": [[], {}]}}}).encode(),
]


@pytest.mark.parametrize("route", RPC_ROUTES)
def test_no_input_produces_a_server_error(mock, route):
    token = f"Bearer {mock.client.token()}"
    for body in NASTY:
        answer = requests.post(mock.url + route, data=body, headers={"Authorization": token, "Content-Type": "application/json"}, timeout=30)
        assert answer.status_code < 500, (body[:80], answer.status_code, answer.text[:300])
        assert "Traceback" not in answer.text
        if answer.status_code == 204:
            assert answer.content == b""
            assert b'"id"' not in body[:200]  # only a notification may get an empty answer
            continue
        doc = answer.json()
        assert doc["jsonrpc"] == "2.0"
        assert ("result" in doc) != ("error" in doc), doc
        if "error" in doc:
            assert doc["error"]["message"].strip()
            assert "path" in doc["error"].get("data", {}), doc
    assert requests.get(mock.url + "/health", timeout=5).status_code == 200


def test_integers_beyond_64_bits_stay_exact():
    # the fast reader would turn them into floats: such bodies are read by the standard library
    doc = jsonrpc.decode(b'{"id": 123456789012345678901234, "n": [18446744073709551616]}')
    assert doc == {"id": 123456789012345678901234, "n": [18446744073709551616]}
    assert isinstance(doc["n"][0], int)


def test_nasty_bodies_are_journaled_as_rejected(mock):
    for body in (b"", b"null", b"[]", b"\xff", b'{"jsonrpc":"2.0","id":NaN}'):
        answer = post(mock, "/api", body)
        journal_id = int(answer.headers["X-Momlab-Journal-Id"])
        row = [r for r in mock.client.journal() if r["id"] == journal_id][0]
        assert row["status"] == "rejected" and row["error_code"] == answer.json()["error"]["code"]


def test_unknown_path_and_wrong_verb_get_json_errors(mock):
    for method, path, status in [("GET", "/nope", 404), ("POST", "/api/v1/x/y", 404), ("GET", "/api", 405),
                                 ("PUT", "/events", 405), ("DELETE", "/remote/oms", 405), ("GET", "/oauth/token", 405)]:
        answer = requests.request(method, mock.url + path, timeout=5)
        assert answer.status_code == status, (method, path)
        assert answer.headers["content-type"].startswith("application/json")
        assert "<html" not in answer.text.lower()
        error = rpc_error(answer)
        assert "POST /api" in error["message"]  # lists the routes that exist


# -- every public example -------------------------------------------------------------------------


def _examples():
    return [(path.name, load_example(path.name)) for path in complete_examples()]


def test_every_complete_example_is_accepted(mock):
    for name, doc in _examples():
        for route in ("/api", "/events") if catalog.get(doc["method"]).direction == "from_mom" else ("/api",):
            answer = post(mock, route, doc)
            assert answer.status_code in (200, 204), (name, route, answer.text[:500])
            if "id" in doc:
                assert "result" in answer.json(), name
            else:
                assert answer.content == b""
    # the order create example is a notification: the order exists all the same
    orders = [o["id"] for o in mock.client.state("orders")]
    assert "test-order" in orders


def test_payment_examples_reach_a_subscriber(mock, start_receiver):
    payments = [(n, d) for n, d in _examples() if d["method"].startswith("magento.payments.")]
    if not payments:
        pytest.skip("no payment example")
    gateway = start_receiver(id="gateway", handlers={d["method"]: (lambda params: {"ok": True}) for _, d in payments})
    gateway.register(mock.client)
    for name, doc in payments:
        for route in ("/api", "/events"):
            answer = post(mock, route, doc)
            assert answer.json()["result"] == {"subscribers": ["gateway"]}, name
    wait_for(lambda: len(gateway.log) == 2 * len(payments), what="payment deliveries")
    assert sorted(e["method"] for e in gateway.log) == sorted(d["method"] for _, d in payments for _ in range(2))
    assert all(e["signature"] == "ok" and e["outcome"] == "ok" for e in gateway.log)
    sent = {d["method"]: d["params"] for _, d in payments}
    assert all(e["params"] == sent[e["method"]] for e in gateway.log)


def test_broken_variants_of_every_example_are_refused(mock):
    for name, doc in _examples():
        schema = catalog.get(doc["method"]).params_schema
        for key in schema.get("required", []):
            broken = copy.deepcopy(doc) | {"id": "broken"}
            del broken["params"][key]
            error = rpc_error(post(mock, "/api", broken), -32602)
            assert error["data"]["path"] == f"$.params.{key}", (name, error)
            wrong_type = copy.deepcopy(doc) | {"id": "broken"}
            wrong_type["params"][key] = 12345
            error = rpc_error(post(mock, "/api", wrong_type), -32602)
            assert error["data"]["path"] == f"$.params.{key}", (name, error)
            assert "12345" in error["message"]


def test_broken_nested_field_of_order_example(mock):
    doc = dict(_examples()).get("magento.sales.order_management.create.json")
    if doc is None:
        pytest.skip("no order create example")
    broken = copy.deepcopy(doc) | {"id": 9}
    broken["params"]["order"]["lines"][1]["line_number"] = "two"
    error = rpc_error(post(mock, "/api", broken), -32602)
    assert error["data"]["path"] == "$.params.order.lines[1].line_number"
    assert mock.client.state("orders") == []
