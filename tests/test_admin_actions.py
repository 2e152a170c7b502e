"""mom.admin's actions (momlab.bus.admin) with arguments a notebook passes in other shapes than lists."""

from __future__ import annotations

import json

from momlab.topics import ORDER_CREATE
from tests.support.builders import order_params


def test_pick_takes_line_ids_from_a_generator(mock):
    params = order_params("S900", ("TEE-ORG-S",), store="POS-BCN")
    params["order"]["lines"][0]["pickup_location"] = "STORE-BCN"
    params["order"]["lines"][-1]["sku"] = "PICKUP"
    mock.client.call(ORDER_CREATE, params)

    answer = mock.admin.pick("S900", confirm=(line for line in ["L1"]))

    assert answer == {"order_id": "S900", "lines": {"L1": "PICKCONFIRMED"}}
    (row,) = mock.store.query("SELECT body FROM journal WHERE route = 'admin/pick'")
    assert json.loads(row["body"])["args"]["confirm"] == ["L1"]
