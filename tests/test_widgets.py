"""The widgets' logic, without a browser (tests/test_browser.py clicks them in a real one)."""

from __future__ import annotations

import pytest

from momlab import orders, widgets
from momlab.client import MomError


def test_flatten_and_unflatten_round_trip():
    message = {"snapshot": {"source_id": "WH-EAST", "stock": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2.5}]}}
    leaves = widgets.flatten(message)
    assert leaves == {"snapshot.source_id": "WH-EAST", "snapshot.stock[0].sku": "A", "snapshot.stock[0].quantity": 1,
                      "snapshot.stock[1].sku": "B", "snapshot.stock[1].quantity": 2.5}
    changed = widgets.unflatten({**leaves, "snapshot.stock[1].quantity": 9}, message)
    assert changed["snapshot"]["stock"][1]["quantity"] == 9 and message["snapshot"]["stock"][1]["quantity"] == 2.5


def test_parse_field_keeps_the_examples_types():
    assert widgets.parse_field("12", 3) == 12
    assert widgets.parse_field("true", False) is True
    assert widgets.parse_field("12", "x") == "12"  # a string field stays a string
    assert widgets.parse_field("not json", 1) == "not json"  # left for validation to report


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("DELTA", {"A": 5, "B": 2, "C": 3, "U": 7}),
        ("FULL", {"A": 5, "B": 2, "C": 3, "U": 7}),
        ("NONZERO", {"A": 5, "B": 0.0, "C": 3, "U": 7}),
    ],
)
def test_preview_snapshot_follows_the_modes(mode, expected):
    rows = widgets.preview_snapshot({"A": 1, "B": 2, "U": 7}, {"A": 5, "C": 3}, mode, unlimited={"U"})
    assert {r["sku"]: r["after"] for r in rows} == expected
    effect_b = next(r["effect"] for r in rows if r["sku"] == "B")
    assert {"DELTA": "unchanged", "FULL": "warning", "NONZERO": "zeroed"}[mode] in effect_b


def test_preview_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="DELTA, FULL or NONZERO"):
        widgets.preview_snapshot({}, {}, "delta")


def test_a_long_table_draws_its_first_rows_and_says_how_many_there_are():
    import pandas as pd

    short = widgets.table(pd.DataFrame({"sku": ["A", "B"]}), "stock")
    assert short.count("<tr>") == 2 and "rows:" not in short
    long = widgets.table(pd.DataFrame({"sku": [f"SKU-{n:05d}" for n in range(5000)]}), "stock")
    assert long.count("<tr>") == widgets.TABLE_ROWS and "SKU-00199" in long and "SKU-00200" not in long
    assert "the first 200 of 5,000 rows" in long


def test_error_box_escapes_and_lists_problems():
    error = MomError(-32602, "bad <b>thing</b>", {"path": "$.params.x", "problems": [{"path": "$.params.x", "message": "is <required>"}]}, 422)
    page = widgets.error_box(error)
    assert "&lt;b&gt;thing" in page and "&lt;required&gt;" in page and "<b>thing" not in page
    assert "-32602" in page


def test_widgets_build_and_act_on_a_running_mock(mock):
    mock.client.call("magento.sales.order_management.create", orders.order_params("W-1", ["TEE-ORG-S"]))
    viewer = widgets.journal_viewer(mock)
    select = viewer.children[2]
    assert any("order_management.create" in label for label, _ in select.options)

    builder = widgets.message_builder(mock)
    builder.children[0].value = "magento.inventory.source_stock_management.update"
    problems, send = builder.children[3], builder.children[4]
    assert "Valid" in problems.value and not send.disabled
    mode_box = next(box for box in builder.children[2].children[1:] if box.description == "snapshot.mode")
    mode_box.value = "delta"
    assert "Not valid yet" in problems.value and "DELTA" in problems.value and send.disabled
    mode_box.value = "DELTA"
    assert builder.children[1].value == "delegate"  # an asynchronous command goes to the delegate route
    send.click()
    assert "<pre>{}</pre>" in builder.children[5].value  # acknowledged, nothing more
    builder.children[1].value = "remote"
    send.click()
    assert "&quot;applied&quot;" in builder.children[5].value  # the synchronous answer carries the outcome

    explorer = widgets.stock_explorer(mock)
    explorer.children[3].value = "TEE-ORG-S,5\nBRAND-NEW,2"
    assert "BRAND-NEW" in explorer.children[4].value
    explorer.children[3].value = "TEE-ORG-S;5"
    assert "line 1: write &#x27;SKU,quantity&#x27;" in explorer.children[4].value and explorer.children[5].disabled

    # a source with more SKUs than a table draws: the SKUs typed in stay above the cut
    source = explorer.children[0].children[0].value
    many = [{"sku": f"ZZ-{n:04d}", "quantity": 3} for n in range(widgets.TABLE_ROWS + 100)]
    mock.client.call("magento.inventory.source_stock_management.update", {"snapshot": {"source_id": source, "mode": "DELTA", "stock": many}})
    explorer.children[2].value = "FULL"
    explorer.children[3].value = "ZZZZ-TYPED,1"
    assert "ZZZZ-TYPED" in explorer.children[4].value and "rows: filter to see the others" in explorer.children[4].value


def test_journal_viewer_filters_shows_and_retries_a_failed_delivery(start_mock, start_receiver):
    mock = start_mock(max_attempts=1)
    wms = start_receiver(secret=None)
    closed = [True]

    @wms.on("magento.logistics.warehouse_management.request_shipment")
    def ship(params):
        if closed[0]:
            raise RuntimeError("the warehouse is closed")
        return {}

    wms.register(mock.client)
    mock.client.call("magento.sales.order_management.create", orders.order_params("W-2", ["TEE-ORG-S"]))
    assert mock.wait_idle()
    viewer = widgets.journal_viewer(mock)
    (topic, direction, status, _), note, select, (retry,), detail = (
        viewer.children[0].children, viewer.children[1], viewer.children[2], viewer.children[3].children, viewer.children[4])
    labels = [label for label, _ in select.options]
    assert not any("nan" in label for label in labels), f"empty cells shown as nan: {labels}"

    status.value = "failed"
    assert [label for label, _ in select.options if "request_shipment -> wms" in label] == [select.options[0][0]]
    direction.value = "in"
    assert select.options == () and "0 message(s)" in note.value
    direction.value, topic.value = "out", "request_shipment"
    select.value = select.options[0][1]
    assert "the warehouse is closed" in detail.value and "&quot;request_id&quot;" in detail.value and not retry.disabled

    closed[0] = False
    retry.click()
    assert "sent again: delivered" in note.value, note.value
    assert "delivered" in detail.value and select.options == ()  # no longer failed, so filtered out of the list

    status.value, direction.value, topic.value = "ok", "in", ""
    select.value = select.options[0][1]
    assert "nan" not in detail.value and retry.disabled  # an inbound message has no error and cannot be retried
