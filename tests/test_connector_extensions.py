"""Extension points: plugins (before, after, around) and observers run where they should, in order,
and an extension's failure fails the message with the extension's name."""

from __future__ import annotations

import pytest

from momlab.connector import ERROR, EVENTS, SUCCESS, TARGETS, ExtensionError
from momlab.connector.extensions import Extensions
from momlab.topics import AGGREGATE_UPDATED, LINES_SHIPPED


def test_plugin_kinds_and_order():
    ext = Extensions()
    calls = []

    @ext.before("catalog.product_updated")
    def upper(product):
        calls.append("before")
        return {**product, "sku": product["sku"].upper()}

    @ext.around("catalog.product_updated", sort_order=-1)
    def timing(proceed, product):
        calls.append("around in")
        result = proceed(product)
        calls.append("around out")
        return result

    @ext.after("catalog.product_updated")
    def tag(result, product):
        calls.append("after")
        result["tagged"] = True  # changed in place, returns None: the result is kept

    result = ext.call("catalog.product_updated", lambda p: {"sku": p["sku"]}, {"sku": "abc"})
    assert result == {"sku": "ABC", "tagged": True}
    assert calls == ["around in", "before", "after", "around out"]
    assert len(ext.frame()) == 3


def test_around_can_skip_and_before_can_replace_all_arguments():
    ext = Extensions()
    ext.around("sales.order_updated", lambda proceed, params: {"skipped": True})
    assert ext.call("sales.order_updated", lambda p: pytest.fail("must not run"), {}) == {"skipped": True}
    ext2 = Extensions()
    ext2.before("sales.order_create", lambda order: ({"increment_id": "X"},))
    assert ext2.call("sales.order_create", lambda order: order["increment_id"], {"increment_id": "A"}) == "X"


def test_unknown_targets_events_and_kinds_are_refused_with_a_hint():
    ext = Extensions()
    with pytest.raises(ValueError, match="Did you mean 'sales.order_create'"):
        ext.after("sales.order_creat")
    with pytest.raises(ValueError, match="Did you mean 'mcom_shipment_created'"):
        ext.observe("mcom_shipment_create")
    with pytest.raises(ValueError, match="before', 'after' or 'around'"):
        ext.plugin("sales.order_create", "instead")
    with pytest.raises(TypeError):
        ext.plugin("sales.order_create", "after", fn="not a function")
    assert "sales.order_create" in TARGETS and "mcom_message_processed" in EVENTS


def test_modules_install_and_remove():
    class GiftModule:
        name = "Acme_Gift"
        plugins = [("sales.order_create", "after", lambda params, order: {**params, "gift": True})]
        observers = [("mcom_order_placed", lambda event: None)]

    ext = Extensions()
    ext.install(GiftModule())
    assert set(ext.frame()["module"]) == {"Acme_Gift"}
    assert ext.call("sales.order_create", lambda o: {}, {}) == {"gift": True}
    assert ext.remove(module="Acme_Gift") == 2 and ext.frame().empty


def test_event_data_as_attributes():
    ext = Extensions()
    seen = []
    ext.observe("mcom_stock_updated", lambda event: seen.append((event.name, event.website_code)))
    ext.dispatch("mcom_stock_updated", website_code="base", aggregate_id="A", stock=[])
    assert seen == [("mcom_stock_updated", "base")]
    ext.observe("mcom_stock_updated", lambda event: event.nope)
    with pytest.raises(ExtensionError, match="has no 'nope'"):
        ext.dispatch("mcom_stock_updated", website_code="base", aggregate_id="A", stock=[])


def test_extensions_run_in_the_real_flow(mock, mdc):
    @mdc.extensions.after("sales.order_create", module="Acme_Channel")
    def add_channel(params, order):
        params["order"]["custom_attributes"].append({"name": "placed_on", "value": order["website"]})
        return params

    shipped = []
    mdc.extensions.observe("mcom_shipment_created", lambda event: shipped.append((event.order_id, event.tracks[0]["tracking_number"])))
    invoiced = []
    mdc.extensions.observe("mcom_invoice_created", lambda event: invoiced.append(event.grand_total))

    @mdc.extensions.around("inventory.aggregate_stock_updated")
    def keep_two_back(proceed, params):
        for entry in params["snapshot"]["stock"]:
            entry["quantity"] = max(0, entry["quantity"] - 2)
        return proceed(params)

    mdc.add_stock_aggregate("AGG-WEB", "base")
    order_id = mdc.place_order("base", ["LAMP-DESK"])
    sent = mock.client.journal(method="magento.sales.order_management.create", order_id=order_id)[-1]["body"]["params"]["order"]
    assert {"name": "placed_on", "value": "base"} in sent["custom_attributes"]
    assert mock.wait_idle(10)
    mdc.process_messages()
    oms = {r["sku"]: r["available"] for r in mock.client.state("aggregate_stock", aggregate_id="AGG-WEB")}
    store = mdc.salable_stock("base").set_index("sku")["quantity"]
    assert store["LAMP-DESK"] == max(0, oms["LAMP-DESK"] - 2)
    request = next(r for r in mock.client.state("shipment_requests") if r["order_id"] == order_id)
    mock.client.call(LINES_SHIPPED, {"request_id": request["id"], "items": [{"order_line_id": "1"}],
                                     "packages": [{"id": "P", "carrier": "DHL", "tracking_number": "JD01", "items": ["1"]}]})
    assert mock.wait_idle(10)
    mdc.process_messages()
    assert shipped == [(order_id, "JD01")] and invoiced == [59.0]


def test_a_failing_extension_fails_the_message_and_names_itself(mock, mdc):
    def broken(event):
        raise KeyError("website")

    mdc.extensions.observe("mcom_stock_updated", broken)
    mdc.add_stock_aggregate("AGG-WEB", "base")
    mock.client.call(AGGREGATE_UPDATED, {"snapshot": {"aggregate_id": "AGG-WEB", "stock": [{"sku": "CAP-NAVY", "quantity": 9}]}}, route="events")
    assert mock.wait_idle(10)
    mdc.process_messages()
    row = mdc.message_log(topic=AGGREGATE_UPDATED).iloc[-1]
    assert row["status"] == ERROR and "observer" in row["error"] and "broken" in row["error"] and "KeyError" in row["error"]
    assert mdc.salable_stock().empty  # nothing half-applied
    mdc.extensions.remove(fn=broken)
    assert mdc.retry([row.name])["status"].tolist() == [SUCCESS]
    assert mdc.salable_stock("base")["quantity"].tolist() == [9.0]


def test_observers_see_failures_and_received_messages(mock, mdc):
    failed, received = [], []
    mdc.extensions.observe("mcom_message_failed", lambda event: failed.append(event.topic))
    mdc.extensions.observe("mcom_message_received", lambda event: received.append(event.topic))
    mock.client.call(AGGREGATE_UPDATED, {"snapshot": {"aggregate_id": "NOWHERE", "stock": []}}, route="events")
    assert mock.wait_idle(10)
    mdc.process_messages()
    assert received == [AGGREGATE_UPDATED] and failed == [AGGREGATE_UPDATED]
