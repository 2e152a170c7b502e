"""The read-only GET views: journal, state, catalog, health and the live journal page."""

from __future__ import annotations

import pytest
import requests

from momlab.bus import catalog
from momlab.topics import AGGREGATE_UPDATED, ORDER_CREATE, REGISTER, UPDATED
from tests.support.builders import order_params
from tests.support.mocks import register, wait_delivered, wait_for
from tests.support.rpc import post, rpc
from tests.support.servers import down_port

STATE_VIEWS = ("orders", "order_lines", "shipment_requests", "shipments", "remotes", "source_stock", "aggregate_stock",
               "sources", "aggregates", "sales_channels", "products", "aggregate_sources")


def get(mock, path, **params) -> requests.Response:
    return requests.get(mock.url + path, params=params, timeout=5)


@pytest.fixture
def busy(mock, start_receiver):
    """A journal with inbound, outbound and rejected rows."""
    mdc = start_receiver(id="mdc", handlers={UPDATED: lambda p: None})
    mdc.register(mock.client)
    mock.client.call(ORDER_CREATE, order_params("V-1"))
    post(mock, "/api", rpc(ORDER_CREATE, order_params("V-1")))  # duplicate: rejected
    post(mock, "/api", b"{broken")
    wait_delivered(mock, UPDATED, count=2)
    return mock


def test_journal_is_oldest_first(busy):
    rows = get(busy, "/journal").json()
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert rows[-1]["error_code"] == -32700  # the newest is last
    assert rows[0]["method"] == REGISTER
    assert rows[0]["at"].endswith("+00:00")


@pytest.mark.parametrize(
    "filters, check",
    [
        ({"method": ORDER_CREATE}, lambda r: r["method"] == ORDER_CREATE),
        ({"direction": "out"}, lambda r: r["direction"] == "out"),
        ({"direction": "in"}, lambda r: r["direction"] == "in"),
        ({"status": "rejected"}, lambda r: r["status"] == "rejected"),
        ({"status": "delivered", "method": UPDATED}, lambda r: r["status"] == "delivered" and r["method"] == UPDATED),
        ({"remote": "mdc"}, lambda r: r["remote"] == "mdc"),
        ({"order_id": "V-1"}, lambda r: r["order_id"] == "V-1"),
    ],
)
def test_journal_filters(busy, filters, check):
    everything = get(busy, "/journal").json()
    rows = get(busy, "/journal", **filters).json()
    assert rows, filters
    assert all(check(r) for r in rows)
    assert [r["id"] for r in rows] == [r["id"] for r in everything if check(r)]


def test_journal_filter_combinations(busy):
    rows = get(busy, "/journal", method=ORDER_CREATE, status="rejected").json()
    assert len(rows) == 1 and rows[0]["error_code"] == -32005
    assert get(busy, "/journal", method="no.such.method").json() == []


def test_journal_since_and_limit(busy):
    everything = get(busy, "/journal").json()
    ids = [r["id"] for r in everything]
    middle = ids[len(ids) // 2]
    assert [r["id"] for r in get(busy, "/journal", since=middle).json()] == [i for i in ids if i > middle]
    assert [r["id"] for r in get(busy, "/journal", limit=3).json()] == ids[-3:]  # the newest three, still oldest first
    assert [r["id"] for r in get(busy, "/journal", since=ids[0], limit=2).json()] == ids[-2:]
    assert get(busy, "/journal", since=ids[-1]).json() == []
    assert get(busy, "/journal", limit=0).json() == []


@pytest.mark.parametrize("name, value", [("limit", "ten"), ("limit", "-1"), ("limit", "1.5"), ("since", "x"),
                                         ("limit", "9" * 30), ("since", "\u0663")])
def test_bad_journal_numbers_are_a_400(mock, name, value):
    answer = get(mock, "/journal", **{name: value})
    assert answer.status_code == 400
    assert name in answer.json()["error"] and "whole number" in answer.json()["error"]


def test_the_journal_shows_what_was_sent_and_answered(busy):
    (created,) = get(busy, "/journal", method=ORDER_CREATE, status="ok").json()
    assert created["direction"] == "in" and created["route"] == "api"
    assert created["body"]["params"]["order"]["id"] == "V-1"
    assert created["response"]["order_id"] == "V-1"
    out = get(busy, "/journal", method=UPDATED).json()[0]
    assert out["route"] == "delivery" and out["remote"] == "mdc" and out["caused_by"] == created["id"]
    assert out["body"]["id"] == out["request_id"]


def test_register_secret_is_masked(mock):
    secret = "super-secret-value-42"
    register(mock, "wms", "http://127.0.0.1:9/mom", [UPDATED], secret=secret)
    post(mock, "/api", rpc(REGISTER, {"id": "bad", "url": "ftp://x", "secret": secret}))  # refused, journaled
    post(mock, "/api", rpc("magento.service_bus.remote.Register", {"id": "w", "url": "http://h/x", "secret": secret}))
    unclosed = '{"jsonrpc":"2.0","id":1,"method":"' + REGISTER + '","params":{"id":"t","url":"http://h/x","secret": "' + secret + '"}'
    post(mock, "/api", unclosed.encode())  # not JSON: journaled as text
    answer = get(mock, "/journal")
    rows = answer.json()
    assert len(rows) == 4
    assert secret not in answer.text
    assert rows[0]["body"]["params"]["secret"] == "***"
    assert rows[0]["body"]["params"]["url"] == "http://127.0.0.1:9/mom"  # the rest is shown
    assert secret not in mock.journal().to_string()
    assert secret not in get(mock, "/state/remotes").text


def test_journal_page(mock):
    answer = get(mock, "/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "<title>momlab journal</title>" in answer.text
    assert "journal?since=" in answer.text  # the page polls the journal view


def test_catalog_list(mock):
    entries = get(mock, "/catalog").json()
    assert [e["method"] for e in entries] == catalog.names()
    by_name = {e["method"]: e for e in entries}
    assert by_name[ORDER_CREATE]["direction"] == "to_mom"
    assert by_name[AGGREGATE_UPDATED]["delivery"] == "broadcast"


def test_catalog_entry(mock):
    entry = get(mock, f"/catalog/{ORDER_CREATE}").json()
    assert entry["method"] == ORDER_CREATE
    assert entry["params_schema"] == catalog.get(ORDER_CREATE).params_schema
    assert entry["kind"] == "command"


def test_unknown_catalog_entry_suggests(mock):
    answer = get(mock, "/catalog/magento.sales.order_management.CREATE")
    assert answer.status_code == 404
    assert ORDER_CREATE in answer.json()["error"]


@pytest.mark.parametrize("view", STATE_VIEWS)
def test_state_views(mock, view):
    answer = get(mock, f"/state/{view}")
    assert answer.status_code == 200
    assert isinstance(answer.json(), list)


def test_unknown_state_view_lists_the_views(mock):
    answer = get(mock, "/state/warehouses")
    assert answer.status_code == 404
    message = answer.json()["error"]
    assert "warehouses" in message
    assert all(view in message for view in STATE_VIEWS)


def test_state_filters(busy):
    lines = get(busy, "/state/order_lines", order_id="V-1").json()
    assert {line["order_id"] for line in lines} == {"V-1"} and len(lines) == 2
    assert get(busy, "/state/order_lines", order_id="nope").json() == []
    assert {r["source_id"] for r in get(busy, "/state/source_stock", source_id="WH-WEST").json()} == {"WH-WEST"}
    assert {r["aggregate_id"] for r in get(busy, "/state/aggregate_stock", aggregate_id="AGG-RETAIL").json()} == {"AGG-RETAIL"}


def test_health(mock):
    doc = get(mock, "/health").json()
    assert (doc["status"], doc["auth"], doc["pending_deliveries"]) == ("ok", True, 0)


def test_health_counts_waiting_deliveries(start_mock):
    mock = start_mock(backoff=5.0)
    register(mock, "down", f"http://127.0.0.1:{down_port()}/mom", [AGGREGATE_UPDATED])
    for _ in range(3):
        post(mock, "/events", rpc(AGGREGATE_UPDATED, {"snapshot": {"aggregate_id": "AGG-WEB", "stock": []}}))
    assert wait_for(lambda: get(mock, "/health").json()["pending_deliveries"] == 3, what="three waiting deliveries")


def test_journal_as_a_data_frame(busy):
    frame = busy.journal(direction="out")
    assert len(frame) == len(get(busy, "/journal", direction="out").json())
    assert set(frame["method"]) >= {UPDATED}
    orders = busy.state("orders")
    assert list(orders["id"]) == ["V-1"]
