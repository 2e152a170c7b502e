"""momlab.storefront, lab 02's other systems: the store (remote mdc), the warehouse and the payment
integration, run against a real mock over HTTP; and the lab's picture of an order's life, which must
be what the mock does and what the lab shows."""

from __future__ import annotations

import base64
import json
import re

import pytest

from momlab import orders, storefront
from tests.support.mocks import stop_soon, wait_for
from tests.support.paths import ROOT

LAB = ROOT / "solutions" / "02-integration-flow" / "02-integration-flow.ipynb"


@pytest.fixture
def systems(mock, teardown):
    """The warehouse, the payment integration and the store, started and registered on `mock`; the
    store's exercise functions are looked up in `exercises` (empty until a test fills it)."""
    exercises: dict = {}
    wms = storefront.Warehouse(mock.client)
    payments = storefront.PaymentIntegration()
    commerce = storefront.Commerce(exercises=exercises)
    for remote in (wms, payments, commerce.remote):
        remote.start()
        teardown.callback(stop_soon, remote)
        remote.register(mock.client)
    return wms, payments, commerce, exercises


def place(mock, wms, order_id, skus):
    mock.client.call(storefront.CREATE, orders.order_params(order_id, skus), route="delegate")
    assert mock.wait_idle(timeout=10)
    return wait_for(lambda: wms.requests_for(order_id), what=f"a shipment request for {order_id}")


def test_one_order_through_the_store_and_the_warehouse(mock, systems):
    wms, payments, commerce, exercises = systems
    seen = []

    def apply_order_update(table, params):
        seen.append((params["order"]["status"], params["order"]["status_reason"]))
        return table

    def add_shipment(table, params):
        raise ValueError("not like this")

    exercises.update(apply_order_update=apply_order_update, add_shipment=add_shipment)
    request = place(mock, wms, "SF-0001", ["TEE-ORG-M", "MUG-ENAMEL"])[0]
    assert wms.acknowledge(request) is not None
    wms.ship(request)
    assert mock.wait_idle(timeout=10)

    assert commerce.last_order["SF-0001"]["status"] == "COMPLETE"
    assert seen[-2:] == [("LOGISTICSCOMPLETE", "FULLYSHIPPED"), ("COMPLETE", "FULLYSHIPPED")]
    log = commerce.log_frame()
    assert list(log.columns) == ["received", "order_id", "detail"]
    assert (log["received"] == "shipment done").sum() == 1
    failed = log[log["received"] == "your code failed"]["detail"].tolist()
    assert failed == ["add_shipment: ValueError: not like this"]  # noted; the store goes on
    assert commerce.shipments.empty and any(key[1] == "MUG-ENAMEL" for key in commerce.stock)
    assert payments.log == []  # an offline (ZEROPAY) order: nothing to validate or capture


def test_an_exercise_not_written_yet_leaves_the_tables_alone():
    def apply_order_update(table, params):
        raise NotImplementedError()

    commerce = storefront.Commerce(exercises={"apply_order_update": apply_order_update})
    order = {"id": "X-1", "store": "WEB-US", "status": "RECEIVED", "status_reason": "IMPORTED",
             "lines": [{"id": "1", "product_type": "PHYSICAL", "status": "NEW"}, {"id": "SHIPPING", "product_type": "SHIPPING", "status": "NEW"}]}
    assert commerce.order_updated({"order": order}) == {}
    assert commerce.orders.empty and list(commerce.orders.columns) == storefront.ORDER_COLUMNS
    assert commerce.log == [{"received": "order updated", "order_id": "X-1", "detail": "RECEIVED/IMPORTED; lines: {'NEW': 1}"}]


def test_a_declined_request_cancels_the_lines(mock, systems):
    wms, _, commerce, _ = systems
    request = place(mock, wms, "SF-0002", ["BAG-TOTE"])[0]
    answer = wms.decline(request)
    assert answer["cancelled"] == [item["order_line_id"] for item in request["items"]]
    assert mock.wait_idle(timeout=10)
    assert (commerce.last_order["SF-0002"]["status"], commerce.last_order["SF-0002"]["status_reason"]) == ("COMPLETE", "FULLYCANCELLED")


def test_payment_commands_say_which_are_documented():
    assert storefront.DOCUMENTED_PAYMENT_COMMANDS == ("validate", "revalidate", "capture")
    assert storefront.CODE_ONLY_PAYMENT_COMMANDS == ("refund", "cancel")
    payments = storefront.PaymentIntegration()
    assert sorted(payments.handlers) == sorted(storefront.PAYMENT_COMMANDS) and len(payments.handlers) == 5
    assert all(handler({"payment": {}}) == {} for handler in payments.handlers.values())


def test_order_ids_skip_the_ones_mom_knows(mock):
    mock.client.call(storefront.CREATE, orders.order_params("LAB02-0001", ["BAG-TOTE"]))
    new_order_id = storefront.OrderIds(mock.client)
    assert [new_order_id(), new_order_id()] == ["LAB02-0002", "LAB02-0003"]


def test_the_plan_is_what_the_mock_does(mock, systems):
    """The lab's replay, as its cells run it: the journal, drawn, is ORDER_LIFE (the mock announces stock
    once per aggregate, which the plan draws once)."""
    wms, _, _, _ = systems
    mark = storefront.journal_mark(mock)
    mock.client.call(storefront.PRODUCT_UPDATED, {"product": {"sku": "UPS-NextDayAirEarlyAM", "type": "shipping", "enabled": True,
                                                              "name": [{"value": "UPS", "channel": "WEB-US", "locale": "en_US"}]}})
    request = place(mock, wms, "SF-0003", ["TEE-ORG-M", "TEE-ORG-M", "MUG-ENAMEL"])[0]
    wms.acknowledge(request)
    assert mock.wait_idle(timeout=10)
    wms.ship(request)
    assert mock.wait_idle(timeout=10)
    mock.client.call(storefront.AUTHORIZE, {"return": {"order_id": "SF-0003", "sales_channel_id": "WEB-US", "user": "customer",
                                                       "lines": [{"id": "1", "line_number": 1, "sku": "TEE-ORG-M", "reason": "WRONG_SIZE"}]}})
    assert mock.wait_idle(timeout=10)
    drawn = [step[:3] for step in storefront.replay(mock.journal(since=mark)).steps]
    once = [step for n, step in enumerate(drawn) if n == 0 or step != drawn[n - 1] or "stock" not in step[2]]
    assert once == storefront.ORDER_LIFE


def test_the_lab_shows_the_current_plan():
    """The picture in lab 02's markdown (an SVG data URI in an <img>: JupyterLab renders no SVG attachment,
    and feedback pages keep markdown) is storefront.planned_life(); re-embed it when ORDER_LIFE changes."""
    cells = json.loads(LAB.read_text())["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]
    pictures = [found for source in sources for found in re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', source)]
    assert len(pictures) == 1
    assert base64.b64decode(pictures[0]).decode() == storefront.planned_life().svg
