"""The connector model against a real mock MOM over HTTP: registration, the store's endpoint, the
Message Log, stock aggregates, orders, shipments and invoices, refunds, and failures on the way."""

from __future__ import annotations

import json
import time

import pytest
import requests

from momlab.bus import signing
from momlab.connector import ERROR, NEW, SUBSCRIBES, SUCCESS, ConfigError, Connector, HandlerError
from momlab.connector.processor import RETRY_WINDOW
from momlab.topics import AGGREGATE_UPDATED, LINES_SHIPPED, REGISTER, STOCK_UPDATE
from tests.support.mocks import wait_for
from tests.support.servers import down_port

REFUND = "magento.postsales.refund_management.updated"
RETURN = "magento.postsales.return_management.updated"
CREATE = "magento.sales.order_management.create"


def deliver_all(mock, connector: Connector):
    assert mock.wait_idle(10)
    return connector.process_messages()


def ship_everything(mock, order_id: str, tracking: str = "1Z999") -> None:
    for request in mock.client.state("shipment_requests"):
        if request["order_id"] == order_id:
            lines = [item["order_line_id"] for item in request["body"]["items"]]
            mock.client.call(LINES_SHIPPED, {"request_id": request["id"], "items": [{"order_line_id": i} for i in lines],
                                             "packages": [{"id": "P1", "carrier": "UPS", "tracking_number": tracking, "items": lines}]})


# -- registration -----------------------------------------------------------------------------------


def test_register_uses_env_php_values(mock, mdc):
    remotes = {r["id"]: r for r in mock.client.state("remotes")}
    assert remotes["mdc"]["url"] == mdc.url and remotes["mdc"]["signed"]
    assert remotes["mdc"]["subscribes"] == sorted(SUBSCRIBES)
    assert set(SUBSCRIBES) == {AGGREGATE_UPDATED, "magento.sales.order_management.updated",
                               "magento.logistics.fulfillment_management.customer_shipment_done", REFUND, RETURN}
    sent = mock.client.journal(method=REGISTER)[-1]["body"]["params"]
    assert sent["id"] == "mdc" and sent["secret"] == "***"
    assert mdc.integration() == {"application_id": "mdc", "registered": True, "enabled": True, "url": mdc.url, "subscribes": SUBSCRIBES}
    # the store answers MIB's probe
    probe = requests.options(mdc.url, timeout=5)
    assert probe.headers["X-Magento-Service-Bus"] == "*"


def test_bin_magento_commands(mock, make_connector, capsys):
    connector = make_connector(settings={"application_id": "shop_eu"})
    answer = connector.bin_magento("bin/magento oms:service-bus:register")
    assert "Registering MDC to Service Bus..." in capsys.readouterr().out
    assert answer["id"] == "shop_eu" and answer["warnings"] == []
    assert connector.bin_magento("setup:upgrade")["replaced"] is True
    with pytest.raises(ConfigError, match="knows no command 'oms:catalog:export'"):
        connector.bin_magento("bin/magento oms:catalog:export")
    with pytest.raises(ConfigError, match="Usage"):
        connector.bin_magento("oms:orders:sync")


def test_registration_refuses_a_broken_env_php(make_connector):
    connector = make_connector(settings={"secure_endpoint": "true", "url": "<mib-host>"})
    assert not connector.report.ok
    with pytest.raises(ConfigError, match="serviceBus block has errors"):
        connector.register()


def test_registration_with_wrong_credentials_or_bus_says_so(mock, make_connector):
    with pytest.raises(ConfigError, match="no OAuth token.*oauth_client_id"):
        make_connector(settings={"oauth_client_secret": "wrong"}).register()
    down = f"http://127.0.0.1:{down_port()}"
    with pytest.raises(ConfigError, match="could not reach"):
        make_connector(settings={"url": down + "/", "oauth_server_url": down + "/"}).register()


# -- the endpoint -----------------------------------------------------------------------------------


def test_endpoint_refuses_unsigned_and_unknown_deliveries(mdc):
    body = json.dumps({"jsonrpc": "2.0", "id": "x1", "method": AGGREGATE_UPDATED,
                       "params": {"snapshot": {"aggregate_id": "AGG-WEB", "stock": []}}}).encode()
    unsigned = requests.post(mdc.url, data=body, timeout=5)
    assert unsigned.status_code == 401 and "not signed" in unsigned.json()["error"]["message"]
    forged = requests.post(mdc.url, data=body, headers={signing.HEADER: signing.sign("other", body)}, timeout=5)
    assert forged.status_code == 401
    other = json.dumps({"jsonrpc": "2.0", "id": 2, "method": CREATE, "params": {}}).encode()
    answer = requests.post(mdc.url, data=other, headers={signing.HEADER: signing.sign("shared-s3cret", other)}, timeout=5)
    assert answer.json()["error"]["code"] == -32601
    good = requests.post(mdc.url, data=body, headers={signing.HEADER: signing.sign("shared-s3cret", body)}, timeout=5)
    assert good.status_code == 200 and good.json()["result"]["stored"] is True
    again = requests.post(mdc.url, data=body, headers={signing.HEADER: signing.sign("shared-s3cret", body)}, timeout=5)
    assert again.json()["result"]["stored"] is False  # same delivery id: stored once
    assert len(mdc.message_log(direction="incoming")) == 1
    assert "delivered this message again" in mdc.message(mdc.message_log().index[0])["history"][-1]["note"]


def test_disabled_integration_takes_nothing_in_or_out(mock, mdc):
    mdc.disable()
    assert mdc.cannot_send().startswith("The integration is disabled")
    order_id = mdc.place_order("base", ["TEE-ORG-S"])
    row = mdc.message_log(reference=order_id).iloc[0]
    assert row["status"] == ERROR and "disabled" in row["error"]
    assert not mock.client.journal(method=CREATE)
    mock.client.call(STOCK_UPDATE, {"snapshot": {"source_id": "WH-EAST", "mode": "DELTA", "stock": [{"sku": "CAP-NAVY", "quantity": 3}]}})
    assert mock.wait_idle(10), "the bus still owes the refused delivery after 10 s"
    failed = wait_for(lambda: [r for r in mock.client.journal(method=AGGREGATE_UPDATED, remote="mdc") if r["status"] in ("retrying", "failed")],
                      what="a refused delivery")
    assert "disabled" in (failed[0]["error"] or "")
    mdc.enable()
    assert mdc.retry([row.name])["status"].tolist() == [SUCCESS]
    assert mock.client.journal(method=CREATE)[-1]["order_id"] == order_id


# -- stock ------------------------------------------------------------------------------------------


def test_unmapped_aggregate_is_an_error_until_mapped_then_retry_applies_it(mock, mdc):
    mock.client.call(STOCK_UPDATE, {"snapshot": {"source_id": "WH-EAST", "mode": "DELTA", "stock": [{"sku": "CAP-NAVY", "quantity": 7}]}})
    run = deliver_all(mock, mdc)
    assert run.failed == 2  # AGG-WEB and AGG-RETAIL both hold WH-EAST
    errors = mdc.message_log(topic=AGGREGATE_UPDATED, direction="incoming", status=ERROR)
    assert set(errors["reference"]) == {"AGG-WEB", "AGG-RETAIL"}
    assert "MCOM > Manage Stock Aggregates" in errors["error"].iloc[0]
    assert mdc.salable_stock().empty
    mdc.add_stock_aggregate("AGG-WEB", "base")
    mdc.add_stock_aggregate("AGG-WEB", "eu")
    retried = mdc.retry(errors.index)
    assert dict(zip(retried["reference"], retried["status"], strict=True)) == {"AGG-WEB": SUCCESS, "AGG-RETAIL": ERROR}
    expected = {r["sku"]: r["available"] for r in mock.client.state("aggregate_stock", aggregate_id="AGG-WEB") if r["sku"] == "CAP-NAVY"}
    stock = mdc.salable_stock()
    assert set(stock["website_code"]) == {"base", "eu"}
    assert stock.set_index("website_code").loc["base", "quantity"] == expected["CAP-NAVY"]
    assert mdc.message(errors.index[0])["retries"] == 1


def test_stock_aggregate_page_validates_its_input(mdc):
    with pytest.raises(ConfigError, match="empty"):
        mdc.add_stock_aggregate("", "base")
    with pytest.raises(ConfigError, match="spaces"):
        mdc.add_stock_aggregate("AGG-WEB ", "base")
    with pytest.raises(ConfigError, match="no website 'fr'"):
        mdc.add_stock_aggregate("AGG-WEB", "fr")
    mdc.add_stock_aggregate("AGG-WEB", "base")
    mdc.add_stock_aggregate("AGG-RETAIL", "base")  # edits: one stock aggregate per website
    assert mdc.stock_aggregates().to_dict("records") == [{"stock_code": "AGG-RETAIL", "website_code": "base"}]
    assert mdc.remove_stock_aggregate("base") and mdc.stock_aggregates().empty


def test_nonzero_snapshot_zeroes_unlisted_skus(mock, mdc):
    mdc.add_stock_aggregate("AGG-RETAIL", "base")
    mdc.incoming_processing = "sync"
    for snapshot in ({"aggregate_id": "AGG-RETAIL", "mode": "DELTA", "stock": [{"sku": "A", "quantity": 5}, {"sku": "B", "quantity": 2},
                                                                                {"sku": "U", "quantity": 0, "unlimited": True}]},
                     {"aggregate_id": "AGG-RETAIL", "mode": "NONZERO", "stock": [{"sku": "A", "quantity": 4}]}):
        mock.client.call(AGGREGATE_UPDATED, {"snapshot": snapshot}, route="events")
        assert mock.wait_idle(10)
    stock = mdc.salable_stock("base").set_index("sku")
    assert stock.loc["A", "quantity"] == 4 and stock.loc["B", "quantity"] == 0 and bool(stock.loc["U", "unlimited"])
    assert mdc.message_log(status=NEW).empty  # sync processing left nothing waiting


# -- orders, shipments, invoices, refunds ---------------------------------------------------------


def test_order_round_trip_creates_shipment_and_invoice(mock, mdc):
    order_id = mdc.place_order("eu", ["TEE-ORG-S", "MUG-ENAMEL"], attributes={"gift_message": "Happy birthday"},
                               line_attributes={"MUG-ENAMEL": {"engraving": "A.B."}})
    sent = mock.client.journal(method=CREATE, order_id=order_id)[-1]
    order = sent["body"]["params"]["order"]
    assert sent["status"] == "ok" and order["store"] == "WEB-EU"
    assert {"name": "gift_message", "value": "Happy birthday"} in order["custom_attributes"]
    assert order["lines"][1]["custom_attributes"] == [{"name": "engraving", "value": "A.B."}]
    assert order["lines"][-1]["product_type"] == "SHIPPING" and order["lines"][-1]["sku"] == "STANDARD"
    deliver_all(mock, mdc)
    assert mdc.orders().set_index("increment_id").loc[order_id, "mom_status"] == "LOGISTICS"
    ship_everything(mock, order_id)
    run = deliver_all(mock, mdc)
    assert run.failed == 0
    shipments, invoices = mdc.shipments(order_id), mdc.invoices(order_id)
    assert len(shipments) == 1 and shipments["tracking"].iloc[0] == "1Z999" and shipments["lines"].iloc[0] == "1,2"
    assert len(invoices) == 1 and invoices["grand_total"].iloc[0] == 19.0 + 15.0
    assert mdc.orders().set_index("increment_id").loc[order_id, "mom_status"] == "COMPLETE"
    items = mdc.order_items(order_id)
    assert items["qty_shipped"].tolist() == [1, 1] and items["qty_invoiced"].tolist() == [1, 1]


def test_a_repeated_shipment_creates_nothing_twice(mock, mdc):
    order_id = mdc.place_order("base", ["CAP-NAVY"])
    ship_everything(mock, order_id)
    deliver_all(mock, mdc)
    done = [r for r in mock.client.journal(method="magento.logistics.fulfillment_management.customer_shipment_done") if r["remote"] == "mdc"][-1]
    mock.client.retry(done["id"])  # the bus sends the same delivery again
    deliver_all(mock, mdc)
    params = done["body"]["params"]
    mock.client.call("magento.logistics.fulfillment_management.customer_shipment_done", params, route="events")  # a new delivery, same shipment
    run = deliver_all(mock, mdc)
    assert run.succeeded == 1
    assert len(mdc.shipments(order_id)) == 1 and len(mdc.invoices(order_id)) == 1


def test_refund_needs_an_invoice_first(mock, mdc):
    order_id = mdc.place_order("base", ["PEN-BRASS", "BOOK-FIELD"])
    refund = {"refund": {"credit_note_number": f"CN-{order_id}", "order_id": order_id, "rma": f"{order_id}-R1", "status": {"code": "RELEASED"},
                         "lines": [{"order_item_id": "1", "order_line": 1, "payments": [{"details": {"cost_gross": 35}}]}]}}
    mock.client.call(REFUND, refund, route="events")
    deliver_all(mock, mdc)
    failed = mdc.message_log(topic=REFUND).iloc[-1]
    assert failed["status"] == ERROR and "no invoice yet" in failed["error"]
    ship_everything(mock, order_id)
    deliver_all(mock, mdc)
    assert mdc.retry([failed.name])["status"].tolist() == [SUCCESS]
    memos = mdc.creditmemos(order_id)
    assert memos["grand_total"].tolist() == [35.0] and mdc.order_items(order_id)["qty_refunded"].tolist() == [1, 0]
    mock.client.call(RETURN, {"return": {"rma": f"{order_id}-R1", "order_id": order_id, "status": {"code": "APPROVED"}}}, route="events")
    deliver_all(mock, mdc)
    assert mdc.returns().to_dict("records") == [{"rma": f"{order_id}-R1", "order_id": order_id, "status": "APPROVED"}]


def test_message_about_another_stores_order_fails_with_the_reason(mock, mdc):
    mock.client.call("magento.logistics.fulfillment_management.customer_shipment_done",
                     {"shipment": {"order_id": "NOT-OURS", "items": [{"order_line_id": "1"}]}}, route="events")
    deliver_all(mock, mdc)
    row = mdc.message_log(reference="NOT-OURS").iloc[0]
    assert row["status"] == ERROR and "no order 'NOT-OURS'" in row["error"]
    assert "HandlerError" in mdc.message(row.name)["trace"]


def test_place_order_refuses_what_cannot_be_sent(mdc):
    mdc.set_sales_channel("eu", None)
    with pytest.raises(ConfigError, match="no OMS sales channel"):
        mdc.place_order("eu", ["TEE-ORG-S"])
    with pytest.raises(ValueError, match="no product"):
        mdc.place_order("base", ["NOPE"])
    with pytest.raises(ValueError, match="not a shipping method"):
        mdc.place_order("base", ["TEE-ORG-S"], shipping="TEE-ORG-M")
    with pytest.raises(ValueError, match="shipping method"):
        mdc.place_order("base", ["STANDARD"])


def test_oms_refusal_shows_in_the_log_and_sync_order_resends(mock, mdc):
    order_id = mdc.place_order("base", ["SOCK-WOOL"])
    again = mdc.sync_order(order_id)  # Export Order: OMS refuses the duplicate
    assert again["status"] == ERROR and "already exists" in again["error"]
    assert mdc.bin_magento(f"oms:orders:sync {order_id}")["status"] == ERROR


def test_undelivered_messages_are_retried_for_48_hours(mock, make_connector):
    clock = {"now": time.time()}
    connector = make_connector(clock=lambda: clock["now"])
    connector.register()
    real_url = connector.transport.url
    connector.transport.url = f"http://127.0.0.1:{down_port()}/"  # the bus is down
    order_id = connector.place_order("base", ["BAG-TOTE"])
    first = connector.message_log(reference=order_id).iloc[0]
    assert first["status"] == ERROR and "retried for 48 hours" in first["error"]
    clock["now"] += 3600
    assert connector.process_messages().failed == 1
    assert connector.message(first.name)["retries"] == 1
    connector.transport.url = real_url
    assert connector.process_messages().succeeded == 1
    connector.transport.url = f"http://127.0.0.1:{down_port()}/"
    order_id = connector.place_order("base", ["BAG-TOTE"])  # and once more, but the bus is back only after 48 hours
    connector.transport.url = real_url
    clock["now"] += RETRY_WINDOW + 1
    # Only outgoing messages count here: the mock's own pushes about the first order (incoming) may land
    # in the queue at any moment, from its delivery thread.
    assert connector.process_messages().sent == 0
    late = connector.message_log(reference=order_id).iloc[-1]
    assert late["status"] == ERROR and late["retries"] == 0
    assert connector.retry([late.name])["status"].tolist() == [SUCCESS]  # by hand it still goes


def test_handler_error_type_is_public():
    assert issubclass(HandlerError, Exception)
