"""Sales channels: the mock's admin stand-in for OMS Admin > System > Stock aggregates and Sales
channels (the create / update topic names are not public, mom-reference.md 5.8, 7.6), and an order
placed through a new channel."""

from __future__ import annotations

import pytest
import requests

from momlab import MomError
from momlab.topics import AGGREGATE_UPDATED, ORDER_CREATE, REQUEST_SHIPMENT
from tests.support.builders import order_params
from tests.support.mocks import wait_delivered


def admin(mock, body, token=True) -> requests.Response:
    headers = {"Authorization": f"Bearer {mock.client.token()}"} if token else {}
    data = body if isinstance(body, (bytes, str)) else None
    return requests.post(f"{mock.url}/admin/sales_channels", json=None if data is not None else body, data=data, headers=headers, timeout=10)


def channels(mock) -> dict:
    return {r["id"]: r for r in mock.client.state("sales_channels")}


def test_create_then_update_a_channel(mock):
    made = mock.create_sales_channel("MARKET-1", "Marketplace", "AGG-RETAIL")
    assert made["created"] is True and channels(mock)["MARKET-1"]["aggregate_id"] == "AGG-RETAIL"
    again = mock.create_sales_channel("MARKET-1", "Marketplace EU", "AGG-WEB")
    assert again["created"] is False
    assert channels(mock)["MARKET-1"] == {"id": "MARKET-1", "name": "Marketplace EU", "aggregate_id": "AGG-WEB"}


def test_create_over_http(mock):
    answer = admin(mock, {"id": "APP-1", "name": "Mobile app", "aggregate_id": "AGG-WEB"})
    assert answer.status_code == 200 and answer.json()["created"] is True
    assert "APP-1" in channels(mock)


@pytest.mark.parametrize(
    "body, status, path",
    [
        ({"id": "X", "name": "X"}, 422, "$.aggregate_id"),
        ({"id": "", "name": "X", "aggregate_id": "AGG-WEB"}, 422, "$.id"),
        ({"id": "X", "name": "X", "aggregate_id": "AGG-NOPE"}, 404, "$.aggregate_id"),
        (["X"], 422, "$"),
        (b"{not json", 400, "$"),
    ],
)
def test_bad_requests_say_what_to_fix(mock, body, status, path):
    answer = admin(mock, body)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["data"]["path"] == path and error["message"].strip()
    assert set(channels(mock)) == {"WEB-US", "WEB-EU", "POS-BCN"}


def test_the_admin_needs_a_token(mock):
    answer = admin(mock, {"id": "X", "name": "X", "aggregate_id": "AGG-WEB"}, token=False)
    assert answer.status_code == 401 and "X" not in channels(mock)


def test_mock_method_raises_mom_error(mock):
    with pytest.raises(MomError) as caught:
        mock.create_sales_channel("X", "X", "AGG-NOPE")
    assert caught.value.code == -32004 and caught.value.path == "$.aggregate_id" and "AGG-WEB" in caught.value.message


def test_an_order_through_a_new_channel_is_sourced_from_its_aggregate(mock, start_receiver):
    mock.create_sales_channel("KIOSK-BCN", "Barcelona kiosk", "AGG-RETAIL")
    channel = start_receiver(id="kiosk", handlers={AGGREGATE_UPDATED: lambda p: {}})
    channel.register(mock.client)
    result = mock.client.call(ORDER_CREATE, order_params("K-1", ("SOCK-WOOL",), store="KIOSK-BCN"))
    assert result["sales_channel"] == "KIOSK-BCN"
    (request,) = [r for r in mock.client.state("shipment_requests") if r["order_id"] == "K-1"]
    retail = {r["source_id"] for r in mock.client.state("aggregate_sources") if r["aggregate_id"] == "AGG-RETAIL"}
    assert request["source_id"] in retail and request["body"]["sales_channel"] == "KIOSK-BCN"
    updates = wait_delivered(mock, AGGREGATE_UPDATED)
    assert "AGG-RETAIL" in {u["body"]["params"]["snapshot"]["aggregate_id"] for u in updates}
    assert not [r for r in mock.client.journal(method=REQUEST_SHIPMENT) if r["order_id"] == "K-1" and r["status"] == "failed"]


def test_reset_forgets_created_channels(mock):
    mock.create_sales_channel("TEMP", "Temporary", "AGG-WEB")
    mock.reset()
    assert "TEMP" not in channels(mock)
