"""The carrier integration: OMS's synchronous request_shipping_details, answered while the bus waits,
and bounded by the mock's delivery_timeout (mom-reference.md 3 row 21, 5.5)."""

from __future__ import annotations

import threading
import time

import momlab
from momlab.bus import catalog
from tests.support.rpc import post, rpc, rpc_error

DETAILS = "magento.logistics.carrier_management.request_shipping_details"


def carrier_answer(params: dict) -> list[dict]:
    shipment = params["shipment"]
    return [
        {"id": p["id"], "carrier": "DHL", "tracking_number": f"TRK-{shipment['order_id']}-{n}",
         "tracking_link": f"https://track.example/{shipment['order_id']}/{n}", "shipping_label_link": f"https://labels.example/{p['id']}.pdf"}
        for n, p in enumerate(shipment["packages"], start=1)
    ]


def test_the_bus_passes_the_carriers_answer_back(mock, start_receiver):
    carrier = start_receiver(id="carrier", handlers={DETAILS: carrier_answer})
    carrier.register(mock.client)
    params = catalog.example(DETAILS)
    result = mock.client.call(DETAILS, params, route="api")
    assert result == carrier_answer(params)
    assert catalog.get(DETAILS).result_schema is not None
    (outbound,) = mock.client.journal(method=DETAILS, direction="out")
    assert outbound["remote"] == "carrier" and outbound["status"] == "delivered" and outbound["attempts"] == 1
    assert [e["signature"] for e in carrier.log] == ["ok"]


def test_the_caller_blocks_while_the_carrier_works(mock, start_receiver):
    carrier = start_receiver(id="carrier", handlers={DETAILS: lambda p: (time.sleep(0.6), carrier_answer(p))[1]})
    carrier.register(mock.client)
    began = time.monotonic()
    mock.client.call(DETAILS, catalog.example(DETAILS), route="api")
    assert time.monotonic() - began >= 0.6


def test_a_slow_carrier_times_out_with_a_clear_error(start_mock, start_receiver):
    mock = start_mock(delivery_timeout=0.5)
    release = threading.Event()
    carrier = start_receiver(id="slow_carrier", handlers={DETAILS: lambda p: (release.wait(3), carrier_answer(p))[1]})
    carrier.register(mock.client)
    began = time.monotonic()
    answer = post(mock, "/api", rpc(DETAILS, catalog.example(DETAILS)))
    took = time.monotonic() - began
    release.set()
    error = rpc_error(answer, -32010, remote_failed=True)
    assert took < 2.5
    assert "slow_carrier" in error["message"] and "no answer within 0.5 s" in error["message"]
    assert "delivery_timeout" in error["message"]
    (inbound,) = mock.client.journal(method=DETAILS, direction="in")
    (outbound,) = mock.client.journal(method=DETAILS, direction="out")
    assert inbound["status"] == "failed" and outbound["status"] == "failed"
    assert mock.client.call("magento.inventory.source_repository.search", {})["total"] >= 1  # the bus is still fine


def test_a_carrier_that_is_down_gets_the_usual_advice(mock):
    mock.client.call("magento.service_bus.remote.register", {"id": "gone", "url": "http://127.0.0.1:9/mom", "subscribes": [DETAILS]})
    error = rpc_error(post(mock, "/api", rpc(DETAILS, catalog.example(DETAILS))), -32010, remote_failed=True)
    assert "registered url" in error["message"] and "delivery_timeout" not in error["message"]


def test_start_takes_delivery_timeout_and_running_again_keeps_the_mock():
    first = momlab.start(fresh=True, step_delay=0, delivery_timeout=1.5)
    try:
        assert first.config.delivery_timeout == 1.5
        assert momlab.start(step_delay=0, delivery_timeout=1.5) is first
        assert momlab.start() is first
        second = momlab.start(step_delay=0, delivery_timeout=2.5)
        assert second is not first and second.config.delivery_timeout == 2.5 and not first.running
    finally:
        momlab.mock._current.stop()
        momlab.mock._current = None


def test_config_default_is_unchanged():
    assert momlab.bus.config.Config().delivery_timeout == 5.0
