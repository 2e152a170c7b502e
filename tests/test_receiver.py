"""The learner-side remote: signatures, the OPTIONS probe, handler failures, duplicates, notifications."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests

from momlab import Receiver
from momlab.topics import AGGREGATE_UPDATED
from tests.support.mocks import deliveries, wait_delivered, wait_for
from tests.support.rpc import post, rpc

SECRET = "s3cret"
EVENT = {"snapshot": {"aggregate_id": "AGG-WEB", "mode": "DELTA", "stock": [{"sku": "TEE-ORG-S", "quantity": 1}]}}


def signed_post(receiver, doc, secret: str | None = SECRET, signature: str | None = None) -> requests.Response:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Signature"] = signature
    elif secret is not None:
        headers["X-Signature"] = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return requests.post(receiver.url, data=body, headers=headers, timeout=5)


def test_options_probe(start_receiver):
    receiver = start_receiver()
    answer = requests.options(receiver.url, timeout=5)
    assert answer.status_code == 200
    assert answer.headers["X-Magento-Service-Bus"] == "*"


def test_a_signed_delivery_runs_the_handler(start_receiver):
    calls = []
    receiver = start_receiver(handlers={AGGREGATE_UPDATED: lambda params: calls.append(params) or {"stored": 1}})
    answer = signed_post(receiver, rpc(AGGREGATE_UPDATED, EVENT, id="d-1"))
    assert answer.status_code == 200
    assert answer.json() == {"jsonrpc": "2.0", "id": "d-1", "result": {"stored": 1}}
    assert calls == [EVENT]
    (entry,) = receiver.log
    assert (entry["signature"], entry["outcome"], entry["delivery_id"], entry["duplicate"]) == ("ok", "ok", "d-1", False)


@pytest.mark.parametrize(
    "kwargs, words",
    [({"secret": None}, "missing"), ({"secret": "not-our-secret"}, "bad"), ({"signature": "sha1=deadbeef"}, "bad"),
     ({"signature": "md5=whatever"}, "bad")],
)
def test_bad_or_missing_signature_is_refused(start_receiver, kwargs, words):
    calls = []
    receiver = start_receiver(handlers={AGGREGATE_UPDATED: calls.append})
    answer = signed_post(receiver, rpc(AGGREGATE_UPDATED, EVENT), **kwargs)
    assert answer.status_code == 401
    doc = answer.json()
    assert doc["error"]["code"] == -32001 and words in doc["error"]["message"]
    assert "result" not in doc
    assert calls == []
    (entry,) = receiver.log
    assert entry["signature"] == words and entry["outcome"] == "refused"


def test_a_receiver_without_secret_does_not_check(start_receiver):
    receiver = start_receiver(secret=None, handlers={AGGREGATE_UPDATED: lambda p: None})
    answer = signed_post(receiver, rpc(AGGREGATE_UPDATED, EVENT), secret=None)
    assert answer.status_code == 200
    assert receiver.log[0]["signature"] == "not checked"


def test_handler_exception_becomes_a_json_rpc_error(start_receiver):
    def broken(params):
        raise KeyError("sku")

    receiver = start_receiver(handlers={AGGREGATE_UPDATED: broken})
    answer = signed_post(receiver, rpc(AGGREGATE_UPDATED, EVENT, id=7))
    assert answer.status_code == 500
    doc = answer.json()
    assert doc["id"] == 7 and "result" not in doc
    assert doc["error"]["code"] == -32000
    assert "KeyError" in doc["error"]["message"] and "broken" in doc["error"]["message"]
    assert receiver.log[0]["outcome"] == "handler error"


@pytest.mark.parametrize("bad_answer", [{1, 2}, float("nan"), {"x": object()}])
def test_a_handler_answer_that_is_not_json_is_an_error(start_receiver, bad_answer):
    receiver = start_receiver(handlers={AGGREGATE_UPDATED: lambda params: bad_answer})
    answer = signed_post(receiver, rpc(AGGREGATE_UPDATED, EVENT))
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == -32000
    assert receiver.log[0]["outcome"] == "handler error"


def test_the_bus_retries_after_a_handler_error(start_mock, start_receiver):
    mock = start_mock(backoff=0.5, max_attempts=3)
    attempts = []

    def flaky(params):
        attempts.append(params)
        if len(attempts) == 1:
            raise RuntimeError("database is down")
        return {"ok": True}

    receiver = start_receiver(handlers={AGGREGATE_UPDATED: flaky})
    receiver.register(mock.client)
    post(mock, "/events", rpc(AGGREGATE_UPDATED, EVENT))
    retrying = wait_for(lambda: deliveries(mock, status="retrying"), what="the delivery to be retrying")
    assert retrying[0]["attempts"] == 1
    assert "RuntimeError: database is down" in retrying[0]["error"]
    (delivered,) = wait_delivered(mock, AGGREGATE_UPDATED)
    assert delivered["attempts"] == 2
    assert [e["outcome"] for e in receiver.log] == ["handler error", "ok"]
    # the same delivery id both times: the second arrival is flagged
    assert receiver.log[0]["delivery_id"] == receiver.log[1]["delivery_id"] == delivered["request_id"]
    assert [e["duplicate"] for e in receiver.log] == [False, True]


def test_duplicate_delivery_is_flagged(start_receiver):
    receiver = start_receiver(handlers={AGGREGATE_UPDATED: lambda p: None})
    doc = rpc(AGGREGATE_UPDATED, EVENT, id="same-id")
    assert signed_post(receiver, doc).status_code == 200
    assert signed_post(receiver, doc).status_code == 200
    assert signed_post(receiver, rpc(AGGREGATE_UPDATED, EVENT, id="other-id")).status_code == 200
    assert [e["duplicate"] for e in receiver.log] == [False, True, False]


def test_a_delivery_sent_again_by_hand_is_flagged_as_duplicate(mock, start_receiver):
    receiver = start_receiver(handlers={AGGREGATE_UPDATED: lambda p: None})
    receiver.register(mock.client)
    post(mock, "/events", rpc(AGGREGATE_UPDATED, EVENT))
    (delivered,) = wait_delivered(mock, AGGREGATE_UPDATED)
    mock.client.retry(delivered["id"])
    wait_for(lambda: len(receiver.log) == 2, what="the second delivery")
    assert [e["duplicate"] for e in receiver.log] == [False, True]


def test_a_notification_gets_an_empty_204(start_receiver):
    calls = []
    receiver = start_receiver(handlers={AGGREGATE_UPDATED: calls.append})
    answer = signed_post(receiver, rpc(AGGREGATE_UPDATED, EVENT, id=None))
    assert answer.status_code == 204 and answer.content == b""
    assert calls == [EVENT]


def test_no_handler_for_the_method(start_receiver):
    receiver = start_receiver(handlers={})
    answer = signed_post(receiver, rpc(AGGREGATE_UPDATED, EVENT))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == -32601
    assert AGGREGATE_UPDATED in answer.json()["error"]["message"]


@pytest.mark.parametrize("body, code", [(b"{oops", -32700), (b"[]", -32600), (b'{"jsonrpc":"2.0","id":1,"method":"m","params":[1]}', -32602)])
def test_malformed_deliveries(start_receiver, body, code):
    receiver = start_receiver(handlers={"m": lambda p: None})
    answer = signed_post(receiver, body)
    assert answer.status_code < 500
    assert answer.json()["error"]["code"] == code


def test_register_subscribes_to_the_handlers(mock, start_receiver):
    receiver = start_receiver(id="erp", handlers={AGGREGATE_UPDATED: lambda p: None, "magento.sales.order_management.updated": lambda p: None})
    result = receiver.register(mock.client)
    assert result["warnings"] == [] and result["url"] == receiver.url
    (remote,) = mock.client.state("remotes")
    assert remote["id"] == "erp" and remote["signed"] is True
    assert sorted(remote["subscribes"]) == sorted(receiver.handlers)


def test_decorator_and_log_frame(start_receiver):
    receiver = start_receiver()

    @receiver.on(AGGREGATE_UPDATED)
    def on_stock(params):
        return {"skus": len(params["snapshot"]["stock"])}

    assert signed_post(receiver, rpc(AGGREGATE_UPDATED, EVENT)).json()["result"] == {"skus": 1}
    frame = receiver.log_frame()
    assert list(frame["method"]) == [AGGREGATE_UPDATED]
    assert list(frame["signature"]) == ["ok"]


def test_url_needs_a_started_receiver():
    with pytest.raises(RuntimeError, match="start"):
        _ = Receiver().url
