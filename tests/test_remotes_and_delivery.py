"""Registering remotes, and delivering to them: signed, journaled, retried with back-off, retried by hand."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading

import pytest
import requests

from momlab.topics import AGGREGATE_UPDATED, ORDER_CREATE, REGISTER, UNREGISTER, UPDATED
from tests.support.builders import order_params
from tests.support.mocks import deliveries, register, wait_delivered, wait_for
from tests.support.rpc import post, rpc, rpc_error
from tests.support.servers import down_port, free_port

STOCK_EVENT = {"snapshot": {"aggregate_id": "AGG-WEB", "mode": "DELTA", "created_on": "2024-01-01T00:00:00+00:00",
                            "stock": [{"sku": "TEE-ORG-S", "quantity": 3}]}}
SHIPPING_DETAILS = "magento.logistics.carrier_management.request_shipping_details"


def broadcast(mock, params=STOCK_EVENT) -> dict:
    answer = post(mock, "/events", rpc(AGGREGATE_UPDATED, params))
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def row(mock, journal_id: int) -> dict:
    return [r for r in mock.client.journal() if r["id"] == journal_id][0]


# -- registration -----------------------------------------------------------------------------------


def test_register_stores_the_remote(mock):
    result = register(mock, "wms", "http://127.0.0.1:8001/mom", [UPDATED, AGGREGATE_UPDATED, UPDATED])
    assert result == {"id": "wms", "url": "http://127.0.0.1:8001/mom", "subscribes": [UPDATED, AGGREGATE_UPDATED],
                      "replaced": False, "warnings": []}
    (remote,) = mock.client.state("remotes")
    assert remote["id"] == "wms" and remote["signed"] is True
    assert sorted(remote["subscribes"]) == sorted([UPDATED, AGGREGATE_UPDATED])


def test_register_again_replaces(mock):
    register(mock, "wms", "http://127.0.0.1:8001/mom", [UPDATED])
    result = register(mock, "wms", "http://127.0.0.1:8002/new", [AGGREGATE_UPDATED])
    assert result["replaced"] is True
    (remote,) = mock.client.state("remotes")
    assert remote["url"] == "http://127.0.0.1:8002/new"
    assert remote["subscribes"] == [AGGREGATE_UPDATED]
    assert broadcast(mock) == {"subscribers": ["wms"]}


def test_unregister(mock):
    register(mock, "wms", "http://127.0.0.1:8001/mom", [AGGREGATE_UPDATED])
    assert mock.client.call(UNREGISTER, {"id": "wms"}) == {"id": "wms", "unregistered": True}
    assert mock.client.state("remotes") == []
    assert broadcast(mock) == {"subscribers": []}
    error = rpc_error(post(mock, "/api", rpc(UNREGISTER, {"id": "wms"})), -32004)
    assert error["data"]["path"] == "$.params.id"
    assert "wms" in error["message"]


def test_register_warnings(mock):
    result = register(mock, "x", "http://127.0.0.1:8001/mom",
                       ["magento.sales.order_management.updatd", "magento.nothing.at.all", ORDER_CREATE], secret=None)
    warnings = result["warnings"]
    assert len(warnings) == 4
    assert "not a message the bus knows" in warnings[0] and f"Did you mean {UPDATED}" in warnings[0]
    assert "magento.nothing.at.all" in warnings[1]
    assert ORDER_CREATE in warnings[2] and "sent to MOM" in warnings[2]
    assert "No secret" in warnings[3]
    assert mock.client.state("remotes")[0]["signed"] is False


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/mom", "127.0.0.1:8001/mom", "http://", "http:///path", "mailto:a@b.c",
                                 "http://[::1", "http://127.0.0.1:99999/mom", "javascript:alert(1)"])
def test_register_refuses_a_bad_url(mock, url):
    answer = post(mock, "/api", rpc(REGISTER, {"id": "bad", "url": url, "secret": "s"}))
    assert answer.status_code == 422
    error = rpc_error(answer, -32602)
    assert error["data"]["path"] == "$.params.url"
    assert "http" in error["message"]
    assert mock.client.state("remotes") == []


def test_register_requires_id_and_url(mock):
    for missing in ("id", "url"):
        params = {"id": "a", "url": "http://127.0.0.1:1/x"}
        del params[missing]
        error = rpc_error(post(mock, "/api", rpc(REGISTER, params)), -32602)
        assert error["data"]["path"] == f"$.params.{missing}"


# -- deliveries -------------------------------------------------------------------------------------


def test_deliveries_are_signed_posted_and_journaled(mock, raw_remote):
    erp = raw_remote()
    erp.gate = threading.Event()  # hold the first delivery so its 'pending' status can be seen
    register(mock, "erp", erp.url, [UPDATED], secret="k3y")
    mock.client.call(ORDER_CREATE, order_params("D-1"))
    wait_for(lambda: erp.requests, what="the first delivery to arrive")
    rows = deliveries(mock, method=UPDATED)
    assert [r["status"] for r in rows] == ["pending", "pending"]
    assert all(r["remote"] == "erp" and r["order_id"] == "D-1" for r in rows)
    erp.gate.set()
    rows = wait_delivered(mock, UPDATED, count=2)
    assert all(r["attempts"] == 1 for r in rows)
    assert len(erp.requests) == 2
    for request, journal_row in zip(erp.requests, rows, strict=True):
        assert request["path"] == "/mom"
        assert request["headers"]["Content-Type"] == "application/json"
        expected = "sha1=" + hmac.new(b"k3y", request["body"], hashlib.sha1).hexdigest()
        assert request["headers"]["X-Signature"] == expected
        body = json.loads(request["body"])
        assert body["jsonrpc"] == "2.0" and body["method"] == UPDATED
        assert isinstance(body["id"], str) and body["id"] == journal_row["request_id"]
        assert body == journal_row["body"]
    # OMS's order of events is kept per remote
    assert [json.loads(r["body"])["params"]["order"]["status"] for r in erp.requests] == ["RECEIVED", "LOGISTICS"]


def test_no_secret_no_signature(mock, raw_remote):
    remote = raw_remote()
    register(mock, "open", remote.url, [AGGREGATE_UPDATED], secret=None)
    broadcast(mock)
    wait_delivered(mock, AGGREGATE_UPDATED)
    assert "X-Signature" not in remote.requests[0]["headers"]


def test_a_remote_that_is_down_is_retried_with_back_off_then_failed(start_mock):
    backoff = 0.3
    mock = start_mock(backoff=backoff, max_attempts=3)
    register(mock, "down", f"http://127.0.0.1:{down_port()}/mom", [AGGREGATE_UPDATED])
    broadcast(mock)
    (first,) = deliveries(mock, method=AGGREGATE_UPDATED)
    journal_id = first["id"]

    def state_after(attempts):
        # read straight from the store: one consistent look at attempts, status and the next due time
        def check():
            row_ = mock.store.query("SELECT attempts, status, due_at, error FROM journal WHERE id = ?", (journal_id,))[0]
            return dict(row_) if row_["attempts"] >= attempts else None
        return wait_for(check, what=f"attempt {attempts}")

    one = state_after(1)
    assert (one["attempts"], one["status"]) == (1, "retrying")
    assert "connection refused" in one["error"]
    two = state_after(2)
    assert (two["attempts"], two["status"]) == (2, "retrying")
    assert two["due_at"] - one["due_at"] >= 2 * backoff - 0.005  # the wait doubles
    final = wait_for(lambda: (r := row(mock, journal_id))["status"] == "failed" and r, what="the delivery to fail")
    assert final["attempts"] == 3
    assert "connection refused" in final["error"]
    wait_for(lambda: requests.get(mock.url + "/health", timeout=5).json()["pending_deliveries"] == 0, what="nothing left to send")


def test_failed_delivery_retried_by_hand_once_the_remote_is_up(mock, start_receiver):
    port = free_port()
    register(mock, "wms", f"http://127.0.0.1:{port}/mom", [AGGREGATE_UPDATED])
    broadcast(mock)
    broadcast(mock, {"snapshot": {**STOCK_EVENT["snapshot"], "aggregate_id": "AGG-RETAIL"}})
    def two_failed():
        failed = deliveries(mock, status="failed")
        return failed if len(failed) == 2 else None

    rows = wait_for(two_failed, what="two failed deliveries")
    assert all(r["attempts"] == 3 for r in rows)

    wms = start_receiver(id="wms", port=port, handlers={AGGREGATE_UPDATED: lambda params: {"got": params["snapshot"]["aggregate_id"]}})
    answer = requests.post(f"{mock.url}/journal/{rows[0]['id']}/retry", headers={"Authorization": f"Bearer {mock.client.token()}"}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["status"] == "pending" and answer.json()["attempts"] == 0
    wait_for(lambda: row(mock, rows[0]["id"])["status"] == "delivered", what="the retried delivery")
    assert row(mock, rows[1]["id"])["status"] == "failed"  # only the one retried

    assert mock.client.retry(rows[1]["id"])["status"] == "pending"
    wait_for(lambda: row(mock, rows[1]["id"])["status"] == "delivered", what="the second retried delivery")
    assert [e["params"]["snapshot"]["aggregate_id"] for e in wms.log] == ["AGG-WEB", "AGG-RETAIL"]
    assert all(e["signature"] == "ok" and e["outcome"] == "ok" for e in wms.log)
    assert row(mock, rows[0]["id"])["response"]["result"] == {"got": "AGG-WEB"}


def test_manual_retry_refusals(mock):
    register(mock, "wms", f"http://127.0.0.1:{free_port()}/mom", [AGGREGATE_UPDATED])
    inbound = mock.client.journal(method=REGISTER)[0]["id"]
    headers = {"Authorization": f"Bearer {mock.client.token()}"}
    answer = requests.post(f"{mock.url}/journal/{inbound}/retry", headers=headers, timeout=5)
    assert answer.status_code == 409 and "only deliveries" in answer.json()["error"]
    answer = requests.post(f"{mock.url}/journal/999999/retry", headers=headers, timeout=5)
    assert answer.status_code == 404 and "999999" in answer.json()["error"]
    with pytest.raises(ValueError, match="999999"):
        mock.client.retry(999999)


def test_retry_after_unregister_is_refused(mock):
    register(mock, "gone", f"http://127.0.0.1:{down_port()}/mom", [AGGREGATE_UPDATED])
    broadcast(mock)
    (failed,) = wait_for(lambda: deliveries(mock, status="failed"), what="a failed delivery")
    mock.client.call(UNREGISTER, {"id": "gone"})
    with pytest.raises(ValueError, match="no longer registered"):
        mock.client.retry(failed["id"])


def test_unregister_fails_waiting_deliveries(start_mock):
    mock = start_mock(backoff=5.0, max_attempts=5)
    register(mock, "slow", f"http://127.0.0.1:{free_port()}/mom", [AGGREGATE_UPDATED])
    broadcast(mock)
    wait_for(lambda: deliveries(mock, status="retrying"), what="a delivery waiting to be retried")
    mock.client.call(UNREGISTER, {"id": "slow"})
    (gone,) = deliveries(mock)
    assert gone["status"] == "failed" and gone["error"] == "remote unregistered"


def test_broadcast_reaches_every_subscriber(mock, start_receiver):
    first = start_receiver(id="mdc", handlers={AGGREGATE_UPDATED: lambda p: None})
    second = start_receiver(id="erp", secret="other", handlers={AGGREGATE_UPDATED: lambda p: None})
    first.register(mock.client)
    second.register(mock.client)
    assert broadcast(mock) == {"subscribers": ["erp", "mdc"]}
    rows = wait_delivered(mock, AGGREGATE_UPDATED, count=2)
    assert sorted(r["remote"] for r in rows) == ["erp", "mdc"]
    assert len(first.log) == len(second.log) == 1
    assert first.log[0]["params"] == second.log[0]["params"] == STOCK_EVENT
    assert first.log[0]["signature"] == second.log[0]["signature"] == "ok"
    assert first.log[0]["delivery_id"] != second.log[0]["delivery_id"]


def test_delivery_id_is_stable_across_retries(mock, raw_remote):
    flaky = raw_remote()
    flaky.answers = [(500, {"oops": True}), (200, b"not json")]
    register(mock, "flaky", flaky.url, [AGGREGATE_UPDATED], secret="k")
    broadcast(mock)
    (delivered,) = wait_delivered(mock, AGGREGATE_UPDATED)
    assert delivered["attempts"] == 3
    assert len(flaky.requests) == 3
    assert len({r["body"] for r in flaky.requests}) == 1  # byte for byte the same request
    assert {json.loads(r["body"])["id"] for r in flaky.requests} == {delivered["request_id"]}
    assert len({r["headers"]["X-Signature"] for r in flaky.requests}) == 1


@pytest.mark.parametrize(
    "answer, words",
    [((500, {"x": 1}), "HTTP 500"), ((200, b"<html>ok</html>"), "not JSON"), ((200, {"ok": True}), "not a JSON-RPC response"),
     ((200, {"jsonrpc": "2.0", "id": 1, "error": {"code": -1, "message": "nope"}}), "nope")],
)
def test_what_counts_as_a_failed_delivery(mock, raw_remote, answer, words):
    remote = raw_remote()
    remote.answers = [answer] * 3
    register(mock, "r", remote.url, [AGGREGATE_UPDATED])
    broadcast(mock)
    (failed,) = wait_for(lambda: deliveries(mock, status="failed"), what="the delivery to fail")
    assert words in failed["error"]
    assert failed["attempts"] == 3


def test_empty_2xx_acknowledges_a_delivery(mock, raw_remote):
    remote = raw_remote()
    remote.answers = [(200, b"")]
    register(mock, "r", remote.url, [AGGREGATE_UPDATED])
    broadcast(mock)
    (delivered,) = wait_delivered(mock, AGGREGATE_UPDATED)
    assert delivered["attempts"] == 1


def test_a_slow_remote_does_not_hold_up_another(mock, raw_remote, start_receiver):
    slow = raw_remote()
    slow.gate = threading.Event()
    register(mock, "slow", slow.url, [AGGREGATE_UPDATED])
    fast = start_receiver(id="fast", handlers={AGGREGATE_UPDATED: lambda p: None})
    fast.register(mock.client)
    broadcast(mock)
    broadcast(mock)
    wait_for(lambda: len(fast.log) == 2, what="both deliveries to the fast remote")
    wait_for(lambda: slow.requests, what="the slow remote's first delivery")
    held = [r for r in deliveries(mock) if r["remote"] == "slow"]
    assert [r["status"] for r in held] == ["pending", "pending"]
    assert len(slow.requests) == 1  # one at a time per remote: the second waits for the first
    slow.gate.set()
    wait_for(lambda: all(r["status"] == "delivered" for r in deliveries(mock)), what="the slow remote's deliveries")
    assert len(slow.requests) == 2


def test_no_subscriber_is_journaled(mock):
    assert broadcast(mock) == {"subscribers": []}
    (out,) = deliveries(mock)
    assert out["status"] == "no_subscriber" and out["remote"] is None


# -- synchronous calls through the bus --------------------------------------------------------------

SHIPMENT = {"shipment": {"order_id": "000000063", "store_id": "WEB-US", "packages": [{"id": "P1", "items": [1]}]}}


def test_synchronous_call_passes_the_remote_answer_back(mock, start_receiver):
    packages = [{"id": "P1", "carrier": "UPS", "tracking_number": "1Z999", "tracking_link": "https://ups.example/1Z999"}]
    carrier = start_receiver(id="carrier", handlers={SHIPPING_DETAILS: lambda params: packages})
    carrier.register(mock.client)
    assert mock.client.call(SHIPPING_DETAILS, SHIPMENT, route="remote", service="carrier") == packages
    assert mock.client.call(SHIPPING_DETAILS, SHIPMENT) == packages  # /api finds the subscriber
    assert [e["params"] for e in carrier.log] == [SHIPMENT, SHIPMENT]
    rows = deliveries(mock, method=SHIPPING_DETAILS)
    assert [r["status"] for r in rows] == ["delivered", "delivered"]


def test_synchronous_call_to_a_remote_that_is_down(mock):
    register(mock, "carrier", f"http://127.0.0.1:{free_port()}/mom", [SHIPPING_DETAILS])
    answer = post(mock, "/remote/carrier", rpc(SHIPPING_DETAILS, SHIPMENT))
    error = rpc_error(answer, -32010, remote_failed=True)
    assert "carrier" in error["message"] and "connection refused" in error["message"]
    assert deliveries(mock, method=SHIPPING_DETAILS)[0]["status"] == "failed"


def test_synchronous_call_with_no_subscriber(mock):
    error = rpc_error(post(mock, "/api", rpc(SHIPPING_DETAILS, SHIPMENT)), -32004)
    assert "Register" in error["message"]


def test_asynchronous_hand_off_to_a_named_remote(mock, start_receiver):
    gateway = start_receiver(id="gateway", handlers={"magento.payments.payments_management.capture": lambda p: {"seen": True}})
    gateway.register(mock.client)
    params = {"payment": {"order_id": "000000063", "amount": 10, "currency": "USD"}}
    answer = post(mock, "/delegate/gateway", rpc("magento.payments.payments_management.capture", params))
    assert answer.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    wait_for(lambda: gateway.log, what="the delegated delivery")
    assert gateway.log[0]["params"] == params
