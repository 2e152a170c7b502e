"""The catalog reaches OMS: product updates, shipping methods as products, and the full catalog
export in chunks, interrupted and resumed."""

from __future__ import annotations

import pytest

from momlab import data
from momlab.connector import BATCH_SIZE, ERROR, NEW, SUCCESS, ProcessInterrupted, catalog
from momlab.connector.processor import COMMIT_EVERY
from tests.support.servers import down_port

TOPIC = "magento.catalog.product_management.updated"


def small_catalog(n: int) -> list[dict]:
    rows = [{"sku": f"T-{i:04d}", "name": f"Test product {i}", "type": "PHYSICAL", "price": 1 + i} for i in range(n - 1)]
    return rows + [{"sku": "STANDARD", "name": "Standard shipping", "type": "SHIPPING", "price": 5}]


def test_the_catalog_data_file():
    rows = data.rows("catalog_full")
    assert len(rows) == 6_000 and len({r["sku"] for r in rows}) == 6_000
    first = {r["sku"] for r in data.rows("products")}
    assert first <= {r["sku"] for r in rows}
    assert catalog.batches(len(rows)) == [5000, 1000] and BATCH_SIZE == 5000


def test_batches():
    assert catalog.batches(0) == [] and catalog.batches(5000) == [5000] and catalog.batches(5001) == [5000, 1]
    assert catalog.batch_count(12_000) == 3
    with pytest.raises(ValueError):
        catalog.batches(10, 0)


def test_product_message_shape():
    params = catalog.build_updated({"id": "7", "sku": "TEE", "name": "Tee", "type": "PHYSICAL", "attributes": {"color": "red"}})
    assert params == {"product": {"id": "7", "sku": "TEE", "type": "PHYSICAL", "name": [{"value": "Tee", "channel": None, "locale": "en_US"}],
                                  "enabled": True, "custom_attributes": [{"attribute_code": "color", "value": "red"}]}}
    assert catalog.build_updated({"id": "1", "sku": "UPS-NextDayAir", "name": "UPS", "type": "SHIPPING"})["product"]["type"] == "shipping"


def test_save_product_and_shipping_methods_reach_oms(mock, mdc):
    mdc.save_product("NEW-SKU-1", name="New thing", price=12.5, attributes={"hs_code": "6109"})
    ids = mdc.sync_shipping_methods()
    assert len(ids) == 2
    assert mdc.message_log(status=NEW, topic=TOPIC).shape[0] == 3
    run = mdc.process_messages()
    assert run.succeeded == 3
    products = {p["sku"]: p for p in mock.client.state("products")}
    assert products["NEW-SKU-1"]["name"] == "New thing"
    assert products["STANDARD"]["type"] == "SHIPPING" and products["EXPRESS"]["type"] == "SHIPPING"
    sent = mock.client.journal(method=TOPIC)
    assert {"attribute_code": "hs_code", "value": "6109"} in sent[0]["body"]["params"]["product"]["custom_attributes"]
    with pytest.raises(ValueError, match="give it a name"):
        mdc.save_product("ANOTHER")


def test_full_export_goes_out_one_chunk_per_run_and_resumes(mock, make_connector):
    connector = make_connector(products=small_catalog(23))
    connector.register()
    status = connector.export_full_catalog(batch_size=10)
    assert (status["total"], status["batches"], status["waiting"]) == (23, 3, 23)
    assert [b["messages"] for b in status["per_batch"]] == [10, 10, 3]
    assert connector.process_messages().batches == [1]
    assert connector.export_status()["sent"] == 10
    with pytest.raises(ProcessInterrupted, match="run it again to resume"):
        connector.process_messages(interrupt_after=4)
    status = connector.export_status()
    assert status["sent"] == 14 and status["per_batch"][1] == {"batch": 2, "messages": 10, "sent": 4, "failed": 0, "waiting": 6}
    run = connector.process_messages(batches=5)
    assert run.batches == [2, 3] and run.sent == 9 and run.succeeded == 9
    assert connector.export_status()["complete"]
    sent = [r["body"]["params"]["product"]["sku"] for r in mock.client.journal(method=TOPIC)]
    assert sorted(sent) == sorted(r["sku"] for r in small_catalog(23))  # each product exactly once
    assert connector.process_messages().processed == 0  # nothing left


def test_export_waits_while_the_bus_is_down_and_then_continues(mock, make_connector):

    connector = make_connector(products=small_catalog(12))
    connector.register()
    connector.export_full_catalog(batch_size=5)
    url = connector.transport.url
    connector.transport.url = f"http://127.0.0.1:{down_port()}/"
    run = connector.process_messages()
    assert run.failed == 5 and connector.export_status()["failed"] == 5
    connector.transport.url = url
    run = connector.process_messages(batches=3)
    assert run.batches == [1, 2, 3] and connector.export_status()["complete"]
    assert connector.message_log(status=ERROR).empty and len(connector.message_log(status=SUCCESS)) == 12


def test_a_killed_run_sends_at_most_one_commit_group_again(mock, make_connector):
    """A process killed in the middle of a chunk (not a clean interruption) loses the statuses of the
    current commit group only: those few messages go again (at least once)."""
    connector = make_connector(products=small_catalog(3 * COMMIT_EVERY))
    connector.register()
    connector.export_full_catalog()
    calls = {"n": 0}
    real = connector.transport.call

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == COMMIT_EVERY + 10:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    connector.transport.call = dying
    with pytest.raises(KeyboardInterrupt):
        connector.process_messages()
    assert connector.export_status()["sent"] == COMMIT_EVERY
    connector.transport.call = real
    connector.process_messages()
    assert connector.export_status()["complete"]
    sent = [r["body"]["params"]["product"]["sku"] for r in mock.client.journal(method=TOPIC, limit=10_000)]
    assert len(set(sent)) == 3 * COMMIT_EVERY and len(sent) == 3 * COMMIT_EVERY + 9
