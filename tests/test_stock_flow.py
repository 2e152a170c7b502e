"""Source stock snapshots in DELTA / FULL / NONZERO modes (mom-reference.md 5.1, 7.2) and the
aggregate stock OMS recomputes and publishes from them."""

from __future__ import annotations

import pytest

from momlab import data
from momlab.bus import catalog
from momlab.topics import AGGREGATE_UPDATED, LINES_DECLINED, LINES_SHIPPED, ORDER_CREATE, STOCK_UPDATE
from tests.support.builders import order_params
from tests.support.mocks import deliveries, wait_for
from tests.support.rpc import post, rpc, rpc_error

SOURCE = "WH-EAST"  # in AGG-WEB and AGG-RETAIL (data/aggregate_sources.csv)


def seeded(source: str = SOURCE) -> dict[str, tuple[float, bool]]:
    return {r["sku"]: (float(r["quantity"]), r["unlimited"] == "1") for r in data.rows("stock") if r["source_id"] == source}


def stock(mock, source: str = SOURCE) -> dict[str, tuple[float, bool]]:
    return {r["sku"]: (r["quantity"], r["unlimited"]) for r in mock.client.state("source_stock", source_id=source)}


def available(mock, aggregate: str, sku: str) -> dict:
    (row,) = [r for r in mock.client.state("aggregate_stock", aggregate_id=aggregate) if r["sku"] == sku]
    return row


def snapshot(mock, mode: str, entries: list[dict], source: str = SOURCE, batch: dict | None = None) -> dict:
    body = {"source_id": source, "mode": mode, "created_on": "2024-05-01T10:00:00+00:00", "stock": entries}
    if batch:
        body["batch"] = batch
    return mock.client.call(STOCK_UPDATE, {"snapshot": body})


def limited(source: str = SOURCE) -> list[str]:
    return sorted(sku for sku, (_, unlimited) in seeded(source).items() if not unlimited)


@pytest.fixture
def listener(mock, start_receiver):
    sales = start_receiver(id="mdc", handlers={AGGREGATE_UPDATED: lambda params: None})
    sales.register(mock.client)
    return sales


def test_seeded_stock_is_data_stock_csv(mock):
    for source in ("WH-EAST", "WH-WEST", "STORE-BCN"):
        assert stock(mock, source) == seeded(source)
    assert {(r["aggregate_id"], r["source_id"]) for r in mock.client.state("aggregate_sources")} == {
        (r["aggregate_id"], r["source_id"]) for r in data.rows("aggregate_sources")}


def test_delta_changes_only_the_listed_skus(mock):
    before = stock(mock)
    result = snapshot(mock, "DELTA", [{"sku": "TEE-ORG-S", "quantity": 5}, {"sku": "NEW-SKU", "quantity": 3}])
    assert result["applied"] == 2 and result["zeroed"] == 0 and result["warnings"] == []
    after = stock(mock)
    assert after["TEE-ORG-S"] == (5, False) and after["NEW-SKU"] == (3, False)
    assert {k: v for k, v in after.items() if k not in ("TEE-ORG-S", "NEW-SKU")} == {k: v for k, v in before.items() if k != "TEE-ORG-S"}
    assert stock(mock, "WH-WEST") == seeded("WH-WEST")


def test_full_keeps_an_omitted_sku_with_a_warning(mock):
    result = snapshot(mock, "FULL", [{"sku": "TEE-ORG-S", "quantity": 5}])
    omitted = [sku for sku in limited() if sku != "TEE-ORG-S"]
    assert result["zeroed"] == 0
    assert result["warning_count"] == len(omitted)
    for sku in omitted:
        assert any(sku in w and "kept" in w for w in result["warnings"]), sku
    after = stock(mock)
    assert after["TEE-ORG-S"] == (5, False)
    assert all(after[sku] == seeded()[sku] for sku in omitted)


def test_full_with_every_sku_has_no_warning(mock):
    entries = [{"sku": sku, "quantity": quantity + 1} for sku, (quantity, unlimited) in seeded().items() if not unlimited]
    result = snapshot(mock, "FULL", entries)
    assert result["warnings"] == [] and result["applied"] == len(entries)
    assert stock(mock)["JEAN-IND-32"] == (41, False)


def test_nonzero_zeroes_omitted_skus_except_unlimited_ones(mock):
    snapshot(mock, "DELTA", [{"sku": "MUG-ENAMEL", "quantity": 7, "unlimited": True}])
    result = snapshot(mock, "NONZERO", [{"sku": "TEE-ORG-S", "quantity": 5}])
    after = stock(mock)
    assert after["TEE-ORG-S"] == (5, False)
    assert after["MUG-ENAMEL"] == (7, True)  # unlimited: left alone
    assert after["GIFTWRAP"] == seeded()["GIFTWRAP"]
    zeroed = [sku for sku in limited() if sku not in ("TEE-ORG-S", "MUG-ENAMEL")]
    assert all(after[sku] == (0, False) for sku in zeroed)
    assert result["zeroed"] == len(zeroed)
    assert stock(mock, "WH-WEST") == seeded("WH-WEST")  # another source is not touched


def test_negative_quantity_is_ignored_with_a_warning(mock):
    for mode in ("DELTA", "FULL", "NONZERO"):
        result = snapshot(mock, mode, [{"sku": "TEE-ORG-L", "quantity": -4}, {"sku": "TEE-ORG-M", "quantity": 6}])
        assert result["applied"] == 1
        assert any("stock[0]" in w and "-4" in w and "ignored" in w for w in result["warnings"]), (mode, result)
        after = stock(mock)
        assert after["TEE-ORG-L"] == seeded()["TEE-ORG-L"], mode  # ignored, even under NONZERO
        assert after["TEE-ORG-M"] == (6, False)


def test_a_quantity_that_is_not_a_number_is_refused(mock):
    error = rpc_error(post(mock, "/api", rpc(STOCK_UPDATE, {"snapshot": {"source_id": SOURCE, "mode": "DELTA",
                                                                         "stock": [{"sku": "TEE-ORG-S", "quantity": "5"}]}})), -32602)
    assert error["data"]["path"] == "$.params.snapshot.stock[0].quantity"


def test_duplicate_sku_is_refused_and_nothing_is_applied(mock):
    answer = post(mock, "/api", rpc(STOCK_UPDATE, {"snapshot": {"source_id": SOURCE, "mode": "DELTA", "stock": [
        {"sku": "TEE-ORG-S", "quantity": 1}, {"sku": "TEE-ORG-M", "quantity": 1}, {"sku": "TEE-ORG-S", "quantity": 2}]}}))
    error = rpc_error(answer, -32602)
    assert error["data"]["path"] == "$.params.snapshot.stock[2].sku"
    assert "TEE-ORG-S" in error["message"] and "twice" in error["message"]
    assert stock(mock) == seeded()


def test_duplicate_sku_is_refused_even_after_an_ignored_entry(mock):
    answer = post(mock, "/api", rpc(STOCK_UPDATE, {"snapshot": {"source_id": SOURCE, "mode": "DELTA", "stock": [
        {"sku": "TEE-ORG-S", "quantity": -1}, {"sku": "TEE-ORG-S", "quantity": 2}]}}))
    assert rpc_error(answer, -32602)["data"]["path"] == "$.params.snapshot.stock[1].sku"


def test_unknown_source(mock):
    answer = post(mock, "/api", rpc(STOCK_UPDATE, {"snapshot": {"source_id": "WH-MOON", "mode": "DELTA", "stock": []}}))
    assert answer.status_code == 404
    error = rpc_error(answer, -32004)
    assert error["data"]["path"] == "$.params.snapshot.source_id"
    assert "WH-EAST" in error["message"]


def test_mode_is_case_sensitive(mock):
    error = rpc_error(post(mock, "/api", rpc(STOCK_UPDATE, {"snapshot": {"source_id": SOURCE, "mode": "delta", "stock": []}})), -32602)
    assert error["data"]["path"] == "$.params.snapshot.mode"
    assert "'DELTA'" in error["message"]


def test_nonzero_batch_zeroes_only_when_the_last_part_arrives(mock):
    batch = {"process_id": "run-1", "process_total": 2}
    first = snapshot(mock, "NONZERO", [{"sku": "TEE-ORG-S", "quantity": 1}], batch={**batch, "process_number": 1})
    assert first["batch_complete"] is False and first["zeroed"] == 0
    middle = stock(mock)
    assert middle["TEE-ORG-S"] == (1, False)
    assert middle["TEE-ORG-L"] == seeded()["TEE-ORG-L"]  # not zeroed yet

    last = snapshot(mock, "NONZERO", [{"sku": "TEE-ORG-M", "quantity": 3}], batch={**batch, "process_number": 2})
    assert last["batch_complete"] is True
    after = stock(mock)
    assert after["TEE-ORG-S"] == (1, False)  # listed in part 1: kept although part 2 left it out
    assert after["TEE-ORG-M"] == (3, False)
    others = [sku for sku in limited() if sku not in ("TEE-ORG-S", "TEE-ORG-M")]
    assert all(after[sku] == (0, False) for sku in others)
    assert last["zeroed"] == len(others)


def test_batch_parts_may_arrive_in_any_order(mock):
    batch = {"process_id": "run-2", "process_total": 3}
    snapshot(mock, "NONZERO", [{"sku": "TEE-ORG-L", "quantity": 4}], batch={**batch, "process_number": 3})
    snapshot(mock, "NONZERO", [{"sku": "TEE-ORG-S", "quantity": 5}], batch={**batch, "process_number": 1})
    assert stock(mock)["JEAN-IND-32"] == seeded()["JEAN-IND-32"]
    last = snapshot(mock, "NONZERO", [{"sku": "TEE-ORG-M", "quantity": 6}], batch={**batch, "process_number": 2})
    assert last["batch_complete"] is True
    after = stock(mock)
    assert (after["TEE-ORG-L"], after["TEE-ORG-S"], after["TEE-ORG-M"]) == ((4, False), (5, False), (6, False))
    assert after["JEAN-IND-32"] == (0, False)


def test_full_batch_warns_once_at_the_end(mock):
    batch = {"process_id": "run-3", "process_total": 2}
    first = snapshot(mock, "FULL", [{"sku": "TEE-ORG-S", "quantity": 1}], batch={**batch, "process_number": 1})
    assert first["warning_count"] == 0
    last = snapshot(mock, "FULL", [{"sku": "TEE-ORG-M", "quantity": 1}], batch={**batch, "process_number": 2})
    assert last["warning_count"] == len(limited()) - 2
    assert stock(mock)["TEE-ORG-L"] == seeded()["TEE-ORG-L"]


def test_a_second_run_with_the_same_id_starts_afresh(mock):
    batch = {"process_id": "daily", "process_total": 1, "process_number": 1}
    snapshot(mock, "NONZERO", [{"sku": "TEE-ORG-S", "quantity": 1}], batch=batch)
    snapshot(mock, "NONZERO", [{"sku": "TEE-ORG-M", "quantity": 1}], batch=batch)
    after = stock(mock)
    assert after["TEE-ORG-S"] == (0, False)  # the first run's SKUs do not count for the second
    assert after["TEE-ORG-M"] == (1, False)


def test_bad_batch_numbers(mock):
    answer = post(mock, "/api", rpc(STOCK_UPDATE, {"snapshot": {"source_id": SOURCE, "mode": "NONZERO", "stock": [],
                                                                "batch": {"process_id": "x", "process_number": 3, "process_total": 2}}}))
    error = rpc_error(answer, -32602)
    assert error["data"]["path"].startswith("$.params.snapshot.batch")
    assert stock(mock) == seeded()


def test_aggregate_stock_is_recomputed_and_published_per_aggregate(mock, listener):
    web, retail = available(mock, "AGG-WEB", "TEE-ORG-S"), available(mock, "AGG-RETAIL", "TEE-ORG-S")
    assert web["on_hand"] == 8 + 40 and web["available"] == 48  # WH-EAST + WH-WEST
    assert retail["on_hand"] == 8 + 1  # WH-EAST + STORE-BCN

    result = snapshot(mock, "DELTA", [{"sku": "TEE-ORG-S", "quantity": 5}])
    assert result["aggregates"] == ["AGG-RETAIL", "AGG-WEB"]
    assert available(mock, "AGG-WEB", "TEE-ORG-S")["available"] == 45
    assert available(mock, "AGG-RETAIL", "TEE-ORG-S")["available"] == 6

    wait_for(lambda: len(listener.log) == 2, what="one update per aggregate")
    published = {e["params"]["snapshot"]["aggregate_id"]: e["params"]["snapshot"] for e in listener.log}
    assert set(published) == {"AGG-WEB", "AGG-RETAIL"}
    assert published["AGG-WEB"]["stock"] == [{"sku": "TEE-ORG-S", "quantity": 45}]
    assert published["AGG-RETAIL"]["stock"] == [{"sku": "TEE-ORG-S", "quantity": 6}]
    for row in deliveries(mock, method=AGGREGATE_UPDATED):
        assert catalog.validate(AGGREGATE_UPDATED, row["body"]["params"]) == []


def test_a_source_in_one_aggregate_publishes_once(mock, listener):
    result = snapshot(mock, "DELTA", [{"sku": "LAMP-DESK", "quantity": 9}], source="WH-WEST")
    assert result["aggregates"] == ["AGG-WEB"]
    wait_for(lambda: listener.log, what="the aggregate update")
    assert len(deliveries(mock, method=AGGREGATE_UPDATED)) == 1
    assert listener.log[0]["params"]["snapshot"]["stock"] == [{"sku": "LAMP-DESK", "quantity": 1 + 9}]


def test_nonzero_publishes_the_zeroed_skus(mock, listener):
    snapshot(mock, "NONZERO", [{"sku": "TEE-ORG-S", "quantity": 5}], source="STORE-BCN")
    wait_for(lambda: listener.log, what="the aggregate update")
    (update,) = [e["params"]["snapshot"] for e in listener.log]
    assert update["aggregate_id"] == "AGG-RETAIL"
    quantities = {s["sku"]: s["quantity"] for s in update["stock"]}
    # every SKU of the store is in it; the zeroed ones now count only WH-EAST's stock
    east = seeded("WH-EAST")
    expected = {sku: int(east.get(sku, (0, False))[0]) for sku in seeded("STORE-BCN")}
    expected["TEE-ORG-S"] += 5
    assert quantities == expected
    assert quantities["TEE-ORG-L"] == 12 and quantities["JEAN-IND-34"] == 1


def test_order_lines_in_flight_are_subtracted(mock, listener):
    mock.client.call(ORDER_CREATE, order_params("S-1", ("TEE-ORG-S", "TEE-ORG-S")))
    mock.client.call(ORDER_CREATE, order_params("S-2", ("TEE-ORG-S",)))
    web = available(mock, "AGG-WEB", "TEE-ORG-S")
    assert (web["on_hand"], web["in_flight"], web["available"]) == (48, 3, 45)

    mock.client.call(LINES_SHIPPED, {"request_id": "S-1-1", "items": [{"order_line_id": "L1"}]})
    web = available(mock, "AGG-WEB", "TEE-ORG-S")
    assert (web["on_hand"], web["in_flight"], web["available"]) == (47, 2, 45)  # shipped: left the shelf
    mock.client.call(LINES_DECLINED, {"request_id": "S-2-1", "items": ["L1"]})
    web = available(mock, "AGG-WEB", "TEE-ORG-S")
    assert (web["on_hand"], web["in_flight"], web["available"]) == (47, 1, 46)  # declined: free again

    assert mock.wait_idle()
    seen = len(listener.log)
    snapshot(mock, "DELTA", [{"sku": "TEE-ORG-S", "quantity": 10}])
    wait_for(lambda: len(listener.log) == seen + 2, what="the aggregate updates")
    published = {e["params"]["snapshot"]["aggregate_id"]: e["params"]["snapshot"]["stock"][0]["quantity"] for e in listener.log[seen:]}
    assert published["AGG-WEB"] == 10 + 40 - 1


def test_an_unlimited_sku_is_always_available(mock):
    snapshot(mock, "DELTA", [{"sku": "BOOK-FIELD", "quantity": 0, "unlimited": True}])
    row = available(mock, "AGG-WEB", "BOOK-FIELD")
    assert row["unlimited"] is True
    result = mock.client.call(ORDER_CREATE, order_params("S-3", ("BOOK-FIELD",)))
    assert result["shipment_requests"] == ["S-3-1"]
    assert mock.client.state("shipment_requests")[0]["source_id"] == SOURCE
