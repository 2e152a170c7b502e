"""magento.logistics.shipment_request_repository.search (mom-reference.md 3 row 16, 5.14)."""

from __future__ import annotations

import jsonschema
import pytest

from momlab.bus import catalog
from momlab.topics import CHANGE_STATUS, LINES_SHIPPED, ORDER_CREATE
from tests.support.builders import order_params
from tests.support.rpc import post, rpc, rpc_error

SEARCH = "magento.logistics.shipment_request_repository.search"


@pytest.fixture
def requests_made(mock):
    for n in range(6):
        mock.client.call(ORDER_CREATE, order_params(f"SR-{n}", ("TEE-ORG-S",), store=("WEB-US", "WEB-EU", "POS-BCN")[n % 3]))
    ids = [r["id"] for r in mock.client.state("shipment_requests")]
    mock.client.call(CHANGE_STATUS, {"shipment_request_id": ids[0], "items": [{"order_line_id": "L1", "status": "RECEIVEDBYLOGISTICS"}]})
    mock.client.call(LINES_SHIPPED, {"request_id": ids[1], "items": [{"order_line_id": "L1"}]})
    return ids


def search(mock, **params):
    return mock.client.call(SEARCH, params, route="remote")


def test_all_and_paging(mock, requests_made):
    everything = search(mock)
    assert everything["total"] == 6 and [i["id"] for i in everything["items"]] == requests_made
    pages = [search(mock, offset=o, size=4) for o in (0, 4, 8)]
    assert [len(p["items"]) for p in pages] == [4, 2, 0] and all(p["total"] == 6 for p in pages)
    assert [i["id"] for p in pages for i in p["items"]] == requests_made


def test_the_answer_fits_the_result_schema(mock, requests_made):
    jsonschema.validate(search(mock), catalog.get(SEARCH).result_schema)


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"status": "RECEIVEDBYLOGISTICS"}, [0]),
        ({"status": "COMPLETE"}, [1]),
        ({"status": ["NEW", "COMPLETE"]}, [1, 2, 3, 4, 5]),
        ({"order_id": "SR-3"}, [3]),
        ({"sales_channel_id": "POS-BCN"}, [2, 5]),
        ({"shipping_method": "STANDARD"}, [0, 1, 2, 3, 4, 5]),
        ({"shipping_method": "EXPRESS"}, []),
        ({"source_id": "NOWHERE"}, []),
        ({"sales_channel_id": "WEB-EU", "order_id": ["SR-1", "SR-4", "SR-5"]}, [1, 4]),
    ],
)
def test_searchable_fields(mock, requests_made, query, expected):
    found = search(mock, query=query)
    assert [i["id"] for i in found["items"]] == [requests_made[n] for n in expected]


def test_items_carry_current_line_statuses(mock, requests_made):
    (item,) = search(mock, query={"id": requests_made[0]})["items"]
    assert item["status"] == "RECEIVEDBYLOGISTICS" and item["items"][0]["status"] == "RECEIVEDBYLOGISTICS"
    assert item["order_id"] == "SR-0" and item["store"] == "WEB-US" and item["shipping_address"]["email"]


def test_dates(mock, requests_made):
    day = search(mock)["items"][0]["status_date"][:10]
    assert search(mock, query={"status_date": day})["total"] == 6
    assert search(mock, query={"status_date": {"from": day, "to": day}})["total"] == 6
    assert search(mock, query={"status_date": {"to": "2000-01-01"}})["total"] == 0
    assert search(mock, query={"origin_date": "1999"})["total"] == 0


@pytest.mark.parametrize(
    "params, path",
    [
        ({"query": {"colour": "red"}}, "$.params.query.colour"),
        ({"query": {"status": [None]}}, "$.params.query.status[0]"),
        ({"query": {"status_date": {"from": "yesterday"}}}, "$.params.query.status_date.from"),
        ({"query": {"status_date": {"since": "2026-01-01"}}}, "$.params.query.status_date"),
        ({"query": {"origin_date": 2026}}, "$.params.query.origin_date"),
        ({"size": 0}, "$.params.size"),
        ({"query": []}, "$.params.query"),
    ],
)
def test_bad_queries_say_where(mock, params, path):
    error = rpc_error(post(mock, "/remote/oms", rpc(SEARCH, params)), -32602)
    assert error["data"]["path"] == path


def test_unknown_field_lists_the_searchable_ones(mock):
    error = rpc_error(post(mock, "/remote/oms", rpc(SEARCH, {"query": {"customer": "x"}})), -32602)
    for name in ("id", "order_id", "source_id", "shipping_method", "status", "origin_date", "status_date", "sales_channel_id"):
        assert name in error["message"]
