"""momlab.incidents: lab 05's tools (fresh order ids, a warehouse's lines_shipped, short views, where to look)."""

from __future__ import annotations

import pandas as pd

from momlab import catalog, incidents
from momlab.topics import LINES_SHIPPED, REQUEST_SHIPMENT


class FakeMom:
    """Just what order_ids and shipper use: client.state("orders") and client.call."""

    def __init__(self, known):
        self.client = self
        self.known, self.sent = known, []

    def state(self, name):
        assert name == "orders"
        return [{"id": order_id} for order_id in self.known]

    def call(self, method, params):
        self.sent.append((method, params))
        return {"ok": True}


def test_order_ids_skip_the_ids_mom_knows():
    mom = FakeMom(known=set())
    new_order_id = incidents.order_ids(mom, prefix="T")
    first = new_order_id()
    mom.known = {f"T-{int(first[2:]) + k:04d}" for k in range(1, 4)}  # the next three are taken
    second = new_order_id()
    assert first.startswith("T-") and second not in mom.known and int(second[2:]) > int(first[2:]) + 3
    assert new_order_id(prefix="X").startswith("X-")


def test_shipped_params_ship_every_line_of_the_request_and_fit_the_schema():
    request = catalog.example(REQUEST_SHIPMENT)
    params = incidents.shipped_params(request)
    assert catalog.validate(LINES_SHIPPED, params) == []
    assert [i["order_line_id"] for i in params["items"]] == [i["order_line_id"] for i in request["items"]]
    assert {i["status"] for i in params["items"]} == {"SHIPPED"}
    mom = FakeMom(known=set())
    assert incidents.shipper(mom)(request) == {"ok": True} and mom.sent[0][0] == LINES_SHIPPED


def test_short_keeps_the_columns_and_shortens_methods():
    frame = pd.DataFrame({"method": ["magento.sales.order_management.create"], "status": ["ok"], "other": [1]})
    assert incidents.short(frame, ["method", "status"]).to_dict("records") == [{"method": "create", "status": "ok"}]
    assert list(frame["method"]) == ["magento.sales.order_management.create"]  # the original is untouched


def test_where_to_look_starts_with_the_log_and_ends_with_the_status_page():
    table = incidents.where_to_look()
    assert len(table) == 3 and "Message Log" in table.iloc[0]["where"] and "status.adobe.com" in table.iloc[2]["where"]
