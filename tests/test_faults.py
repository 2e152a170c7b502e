"""Faults on purpose (momlab.faults, lab 05): the remote's (down, slow, HTTP 500) and the bus's
(duplicate and out-of-order deliveries), all opt-in and reproducible, and the normal path untouched."""

from __future__ import annotations

import json

import pytest
import requests

from momlab import faults
from momlab.bus.config import Config
from momlab.bus.delivery import fault_hits
from momlab.faults import FaultyReceiver
from momlab.topics import AGGREGATE_UPDATED, ORDER_CREATE, REQUEST_SHIPMENT, UPDATED
from tests.support.builders import order_params
from tests.support.mocks import deliveries, register, stop_soon, wait_for

SECRET = "s3cret"


def event(n: int) -> dict:
    return {"snapshot": {"aggregate_id": "AGG-WEB", "mode": "DELTA", "stock": [{"sku": f"SKU-{n}", "quantity": n}]}}


def send_events(mock, count: int) -> None:
    for n in range(count):
        mock.client.call(AGGREGATE_UPDATED, event(n), route="events")


def finished(mock, remote: str, count: int):
    rows = deliveries(mock, remote=remote)
    done = [r for r in rows if r["status"] in ("delivered", "failed")]
    return rows if len(rows) == count and len(done) == count else None


def faulty(start_receiver_list, **kwargs) -> FaultyReceiver:
    receiver = FaultyReceiver(secret=SECRET, id=kwargs.pop("id", "wms"), **kwargs).start()
    start_receiver_list.append(receiver)
    return receiver


@pytest.fixture
def receivers():
    started: list = []
    yield started
    for receiver in started:
        stop_soon(receiver)


# -- the normal path ----------------------------------------------------------------------------------


def test_faults_are_off_by_default():
    config = Config()
    assert (config.duplicate_rate, config.reorder_rate, config.fault_seed) == (0.0, 0.0, 0)


def test_without_faults_each_delivery_arrives_once_and_in_order(mock, start_receiver):
    receiver = start_receiver(handlers={AGGREGATE_UPDATED: lambda p: {}})
    receiver.register(mock.client)
    send_events(mock, 30)
    rows = wait_for(lambda: finished(mock, "wms", 30), what="30 deliveries")
    assert all(r["status"] == "delivered" and r["attempts"] == 1 for r in rows)
    assert [e["delivery_id"] for e in receiver.log] == [r["request_id"] for r in rows]
    assert not any(e["duplicate"] for e in receiver.log)


# -- the remote's faults ------------------------------------------------------------------------------


def test_a_broken_remote_answers_500_until_it_is_fixed_and_retried(start_mock, receivers):
    mock = start_mock(max_attempts=2)
    wms = faulty(receivers, fault="error", error_message="disk full on the WMS")
    wms.on(AGGREGATE_UPDATED)(lambda p: {"stored": True})
    wms.register(mock.client)
    send_events(mock, 2)
    rows = wait_for(lambda: finished(mock, "wms", 2), what="two failed deliveries")
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert rows[0]["attempts"] == 2
    assert rows[0]["error"].startswith("HTTP 500 from the remote") and "disk full on the WMS" in rows[0]["error"]
    assert [e["outcome"] for e in wms.log] == ["handler error"] * 4  # two tries each, the second waited behind the first
    wms.fault = None
    for row in rows:
        mock.client.retry(row["id"])
    assert mock.wait_idle()
    assert [r["status"] for r in deliveries(mock, remote="wms")] == ["delivered", "delivered"]
    assert wms.log[-1]["outcome"] == "ok" and wms.log[-1]["answer"] == {"stored": True}


def test_a_remote_that_is_down_refuses_connections_and_comes_back_on_the_same_url(start_mock, receivers):
    mock = start_mock(max_attempts=2)
    wms = faulty(receivers, fault="down")
    wms.on(AGGREGATE_UPDATED)(lambda p: {})
    url = wms.url
    wms.register(mock.client)
    with pytest.raises(requests.ConnectionError):
        requests.options(url, timeout=2)
    send_events(mock, 1)
    (row,) = wait_for(lambda: finished(mock, "wms", 1), what="a failed delivery")
    assert row["status"] == "failed" and "could not reach" in row["error"] and "connection refused" in row["error"]
    assert wms.log == []
    wms.fault = None
    assert wms.url == url
    assert requests.options(url, timeout=2).headers["X-Magento-Service-Bus"] == "*"
    mock.client.retry(row["id"])
    assert mock.wait_idle()
    assert deliveries(mock, remote="wms")[0]["status"] == "delivered"
    wms.fault = "down"
    with pytest.raises(requests.ConnectionError):
        requests.options(url, timeout=2)


def test_a_slow_remote_times_out_then_gets_the_same_delivery_again(start_mock, receivers):
    mock = start_mock(delivery_timeout=0.3, max_attempts=2, backoff=0.02)
    wms = faulty(receivers, fault="slow", latency=0.6)
    wms.on(AGGREGATE_UPDATED)(lambda p: {})
    wms.register(mock.client)
    send_events(mock, 1)
    (row,) = wait_for(lambda: finished(mock, "wms", 1), what="a timed-out delivery")
    assert row["status"] == "failed" and row["error"] == "no answer within 0.3 s"
    log = wait_for(lambda: wms.log if len(wms.log) == 2 else None, what="the slow remote to finish both")
    assert [e["outcome"] for e in log] == ["ok", "ok"]  # it did the work, twice: the bus never heard
    assert [e["duplicate"] for e in log] == [False, True] and log[0]["delivery_id"] == log[1]["delivery_id"]


def test_the_remote_faults_hit_a_seeded_share_reproducibly(start_mock, receivers):
    patterns = []
    for n, seed in enumerate((11, 11, 12)):
        mock = start_mock(max_attempts=1)
        wms = faulty(receivers, id=f"wms{n}", fault="error", rate=0.5, seed=seed)
        wms.on(AGGREGATE_UPDATED)(lambda p: {})
        wms.register(mock.client)
        send_events(mock, 24)
        rows = wait_for(lambda m=mock, i=wms.id: finished(m, i, 24), what="24 deliveries")
        patterns.append([r["status"] for r in rows])
    assert patterns[0] == patterns[1], "the same seed must hit the same deliveries"
    assert patterns[0] != patterns[2], "another seed hits other deliveries"
    assert 4 <= patterns[0].count("failed") <= 20


def test_a_receiver_fault_must_be_known():
    with pytest.raises(ValueError, match="fault must be one of"):
        FaultyReceiver(fault="on fire")
    with pytest.raises(ValueError, match="rate"):
        FaultyReceiver(fault="error", rate=2)


# -- the bus's faults ---------------------------------------------------------------------------------


def test_fault_hits_is_a_pure_function_of_its_arguments():
    keys = range(20_000)
    hits = [k for k in keys if fault_hits(5, "duplicate", k, 0.25)]
    assert hits == [k for k in keys if fault_hits(5, "duplicate", k, 0.25)]
    assert 0.23 < len(hits) / len(keys) < 0.27
    assert hits != [k for k in keys if fault_hits(6, "duplicate", k, 0.25)]
    assert not any(fault_hits(5, "duplicate", k, 0) for k in range(100))
    assert all(fault_hits(5, "duplicate", k, 1) for k in range(100))


def test_the_duplicate_fault_sends_the_chosen_deliveries_twice(start_mock, start_receiver):
    mock = start_mock(duplicate_rate=0.5, fault_seed=3)
    receiver = start_receiver(handlers={AGGREGATE_UPDATED: lambda p: {}})
    receiver.register(mock.client)
    send_events(mock, 20)
    rows = wait_for(lambda: finished(mock, "wms", 20), what="20 deliveries")
    twice = {r["request_id"] for r in rows if fault_hits(3, "duplicate", r["id"], 0.5)}
    assert 0 < len(twice) < 20
    assert all(r["status"] == "delivered" and r["attempts"] == (2 if r["request_id"] in twice else 1) for r in rows)
    arrived = [e["delivery_id"] for e in receiver.log]
    assert sorted(arrived) == sorted([r["request_id"] for r in rows] + list(twice))
    assert {e["delivery_id"] for e in receiver.log if e["duplicate"]} == twice
    assert all(e["signature"] == "ok" for e in receiver.log)


def test_the_reorder_fault_sends_the_next_delivery_first_and_loses_nothing(start_mock, start_receiver):
    mock = start_mock(reorder_rate=1.0)
    connector = start_receiver(id="connector", handlers={UPDATED: lambda p: {}})
    connector.register(mock.client)
    for n in range(3):
        mock.client.call(ORDER_CREATE, order_params(f"R-{n}"), route="delegate")
    rows = wait_for(lambda: finished(mock, "connector", 6), what="6 updates")
    assert all(r["status"] == "delivered" for r in rows)
    statuses = [(e["params"]["order"]["id"], e["params"]["order"]["status"]) for e in connector.log]
    assert statuses == [(f"R-{n}", s) for n in range(3) for s in ("LOGISTICS", "RECEIVED")]
    assert sorted(e["delivery_id"] for e in connector.log) == sorted(r["request_id"] for r in rows)


def test_bus_faults_switch_on_a_running_mock_and_off_again(mock, start_receiver):
    receiver = start_receiver(handlers={AGGREGATE_UPDATED: lambda p: {}})
    receiver.register(mock.client)
    config = faults.bus_faults(mock, duplicate_rate=1.0, seed=9)
    assert (config.duplicate_rate, config.fault_seed) == (1.0, 9) and mock.deliverer.config is config
    send_events(mock, 2)
    assert mock.wait_idle()
    assert len(receiver.log) == 4
    faults.bus_faults(mock)
    send_events(mock, 2)
    assert mock.wait_idle()
    assert len(receiver.log) == 6
    with pytest.raises(ValueError, match="reorder_rate"):
        faults.bus_faults(mock, reorder_rate=-0.1)


# -- a whole run with one fault -----------------------------------------------------------------------


def evidence(run) -> dict:
    journal = run.journal
    out = journal[journal["direction"].eq("out") & journal["remote"].notna()]
    errors = " ".join(out["error"].dropna().astype(str))
    return {
        "rejected": int(journal["status"].eq("rejected").sum()),
        "refused": "could not reach" in errors,
        "timeout": "no answer within" in errors,
        "http500": "HTTP 500" in errors,
        "http401": "HTTP 401" in errors,
        "duplicates": int(sum(log["duplicate"].sum() for log in run.logs.values())),
        "log_order_matches": all(
            list(dict.fromkeys(log["delivery_id"].dropna())) == [i for i in out.loc[out["remote"].eq(remote), "request_id"] if i in set(log["delivery_id"])]
            for remote, log in run.logs.items()
        ),
    }


CLEAN = {"rejected": 0, "refused": False, "timeout": False, "http500": False, "http401": False, "duplicates": 0, "log_order_matches": True}


@pytest.mark.parametrize(
    "fault, changed",
    [
        (None, {}),
        ("remote_down", {"refused": True}),
        ("remote_slow", {"timeout": True}),
        ("remote_error", {"http500": True}),
        ("bad_signature", {"http401": True}),
        ("invalid_message", {"rejected": 1}),
        ("duplicate_delivery", {"duplicates": "many"}),
        ("out_of_order", {"log_order_matches": False}),
    ],
)
def test_each_simulated_fault_leaves_its_own_evidence(fault, changed):
    run = faults.simulate(fault, seed=21)
    found = evidence(run)
    expected = {**CLEAN, **changed}
    if changed.get("duplicates") == "many":
        assert found.pop("duplicates") > 0
        expected.pop("duplicates")
    assert found == expected
    assert len(run.orders) == 3 and set(run.journal["order_id"].dropna()) >= set(run.orders)


def test_a_simulated_run_is_reproducible():
    first, second = faults.simulate("remote_error", seed=5), faults.simulate("remote_error", seed=5)
    assert first.orders == second.orders
    columns = ["direction", "method", "remote", "status", "attempts", "order_id"]
    assert first.journal[columns].equals(second.journal[columns])
    assert faults.simulate(None, seed=6).orders != first.orders


def test_simulate_refuses_an_unknown_fault():
    with pytest.raises(ValueError, match="fault must be one of"):
        faults.simulate("gremlins")


def test_a_message_that_fails_its_schema_is_refused_with_its_path(mock):
    answer = mock.client.send({"jsonrpc": "2.0", "id": 1, "method": REQUEST_SHIPMENT.replace("request_shipment", "lines_shipped"),
                               "params": {"request_id": 7, "items": [{"order_line_id": "1"}]}})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == -32602 and error["data"]["path"] == "$.params.request_id"
    (row,) = mock.client.journal(status="rejected")
    assert row["error_code"] == -32602 and json.loads(json.dumps(row["body"]))["params"]["request_id"] == 7


def test_register_helper_still_works_with_a_faulty_receiver(mock, receivers):
    wms = faulty(receivers, fault=None)
    wms.on(REQUEST_SHIPMENT)(lambda p: {})
    result = register(mock, "wms", wms.url, [REQUEST_SHIPMENT], secret=SECRET)
    assert result.get("warnings", []) == []
