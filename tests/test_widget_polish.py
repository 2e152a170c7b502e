"""What the widgets show a learner: whole quantities, no NaN, the lab's own source, row counts, a
newest-first journal, Retry only where it helps, a grouped form for big messages; and the journal
page's favicon (tests/test_browser.py looks at the page itself)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import requests

from momlab import orders, widgets
from momlab.bus import catalog

ORDER_CREATE = "magento.sales.order_management.create"
STOCK_UPDATE = "magento.inventory.source_stock_management.update"
SHIPMENT = "magento.logistics.warehouse_management.request_shipment"


def test_numbers_read_as_people_write_them():
    assert [widgets.number(v) for v in (40.0, 0.0, 2.5, 3, None, float("nan"))] == ["40", "0", "2.5", "3", "", ""]


def test_a_table_shows_its_row_count_whole_numbers_and_no_nan():
    frame = pd.DataFrame({"sku": ["A", "B", "C"], "quantity": [40.0, 2.5, None]})
    page = widgets.table(frame, "WH-EAST on hand")
    assert "(3 rows)" in page
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert cells == ["A", "40", "B", "2.5", "C", "—"]
    assert "(1 row)" in widgets.table(frame.head(1), "one")
    long = pd.DataFrame({"sku": [f"S{n}" for n in range(widgets.SCROLL_AFTER + 1)]})
    assert f"({widgets.SCROLL_AFTER + 1} rows; scroll to see them all)" in widgets.table(long, "long")
    assert "::-webkit-scrollbar" in widgets.TABLE_STYLE and "overflow-y:auto" in widgets.TABLE_STYLE


def test_stock_explorer_starts_on_the_source_it_is_given(mock):
    sources = list(mock.state("sources")["id"])
    assert len(sources) > 1
    default = widgets.stock_explorer(mock)
    assert default.children[0].children[0].value == sources[0]  # unchanged without a source

    explorer = widgets.stock_explorer(mock, source=sources[1])
    assert explorer.children[0].children[0].value == sources[1]
    assert f"{sources[1]} on hand" in explorer.children[1].value

    with pytest.raises(ValueError, match=f"No source 'NOWHERE'.*{sources[0]}"):
        widgets.stock_explorer(mock, source="NOWHERE")


def test_stock_explorer_shows_whole_quantities_and_a_new_skus_before_as_new(mock):
    explorer = widgets.stock_explorer(mock)
    source = explorer.children[0].children[0].value
    stock = mock.state("source_stock", source_id=source)
    assert stock["quantity"].dtype == float  # the mock stores quantities as numbers that may be fractional
    tables = explorer.children[1].value
    on_hand = re.findall(r"<td>([^<]*)</td>", tables)
    for quantity in stock["quantity"]:
        assert widgets.number(quantity) in on_hand
    assert not re.search(r"<td>-?\d+\.0</td>", tables) and "NaN" not in tables and "nan" not in tables
    assert re.search(r"\(\d+ rows; scroll to see them all\)", tables)  # a source holds more SKUs than the box shows

    preview, mode, lines = explorer.children[4], explorer.children[2], explorer.children[3]
    assert "if sent as" not in preview.value and "SKU,quantity" in preview.value  # a hint, not an empty table

    sku, quantity = stock.iloc[0]["sku"], stock.iloc[0]["quantity"]
    mode.value = "NONZERO"
    lines.value = f"{sku},5\nBRAND-NEW,3"
    cells = re.findall(r"<td>([^<]*)</td>", preview.value)
    rows = [cells[i:i + 4] for i in range(0, len(cells), 4)]
    assert [sku, widgets.number(quantity), "5", "set"] in rows
    assert ["BRAND-NEW", "new", "3", "set"] in rows
    assert any(row[2] == "0" and row[3] == "zeroed (not listed)" for row in rows)
    assert "NaN" not in preview.value and ".0<" not in preview.value


def test_list_labels_line_up_in_columns():
    rows = pd.DataFrame([
        {"direction": "in", "status": "ok", "method": ORDER_CREATE, "remote": None},
        {"direction": "out", "status": "failed", "method": "magento.logistics.warehouse_management.request_shipment", "remote": "wms"},
        {"direction": "in", "status": "rejected", "method": None, "remote": None},
    ])
    labels = [widgets.list_label(journal_id, row, 7) for journal_id, row in zip((7, 1234, 99), rows.itertuples(), strict=True)]
    method_starts = [label.index(method) for label, method in zip(labels, (ORDER_CREATE, "magento.logistics", "(unreadable)"), strict=True)]
    assert len(set(method_starts)) == 1, labels
    assert labels[1].endswith("request_shipment -> wms") and "\u00a0" in labels[0] and " " not in labels[0]


def test_journal_viewer_lists_newest_first_and_retries_only_failed_deliveries(start_mock, start_receiver):
    mock = start_mock(max_attempts=1)
    failures = ["the warehouse is closed"]  # the first shipment request fails, the second gets through

    def ship(params):
        if failures:
            raise RuntimeError(failures.pop())
        return {}

    start_receiver(secret=None, handlers={SHIPMENT: ship}).register(mock.client)
    for order_id in ("P-1", "P-2"):
        mock.client.call(ORDER_CREATE, orders.order_params(order_id, ["TEE-ORG-S"]))
        assert mock.wait_idle()

    viewer = widgets.journal_viewer(mock)
    note, select, (retry,) = viewer.children[1], viewer.children[2], viewer.children[3].children
    ids = [journal_id for _, journal_id in select.options]
    assert ids == sorted(mock.journal().index, reverse=True) and "newest first" in note.value

    journal = mock.journal()
    shipments = journal[journal["method"] == SHIPMENT]
    statuses = dict(zip(shipments.index, shipments["status"], strict=True))
    assert sorted(statuses.values()) == ["delivered", "failed"]
    for journal_id, status in statuses.items():
        select.value = int(journal_id)
        assert retry.disabled == (status != "failed"), f"Retry on a {status} delivery"
    select.value = int(journal[journal["direction"] == "in"].index[0])
    assert retry.disabled


def test_field_groups_follow_the_messages_nesting():
    groups = widgets.field_groups(list(widgets.flatten(catalog.example(ORDER_CREATE))))
    assert list(groups)[:3] == ["order", "order.customer", "order.addresses[0]"]
    assert "order.lines[0]" in groups and "order.lines[1]" in groups
    assert "order.lines[0].amount.taxes[0].rate" in groups["order.lines[0]"]
    assert sum(len(paths) for paths in groups.values()) == 59
    assert widgets.field_groups(["id", "a.b"]) == {"(top level)": ["id"], "a": ["a.b"]}


def test_message_builder_groups_a_big_form_and_explains_an_async_acknowledgement(mock):
    import ipywidgets as w

    builder = widgets.message_builder(mock)
    builder.children[0].value = ORDER_CREATE
    sections = builder.children[2].children[1:]
    assert all(isinstance(section, w.Accordion) for section in sections) and len(sections) == 6
    assert sections[0].titles == ("order (7 fields)",) and sections[0].selected_index == 0
    assert all(section.selected_index is None for section in sections[1:])  # the others start folded
    fields = [box for section in sections for box in section.children[0].children]
    assert len(fields) == 59 and fields[0].description == "order.id"
    assert "Valid" in builder.children[3].value

    builder.children[0].value = STOCK_UPDATE  # a small message keeps a flat form
    assert all(isinstance(box, w.Text) for box in builder.children[2].children[1:])
    send, answer, route = builder.children[4], builder.children[5], builder.children[1]
    assert route.value == "delegate"
    send.click()
    assert "<pre>{}</pre>" in answer.value and "the bus accepted the message" in answer.value
    route.value = "remote"
    send.click()
    assert "&quot;applied&quot;" in answer.value and "accepted the message" not in answer.value


def test_journal_page_has_an_inline_favicon_its_policy_allows(mock):
    page = requests.get(mock.url + "/", timeout=5)
    assert re.search(r"<link rel=\"icon\" href=\"data:image/svg\+xml,", page.text)
    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert "data:" in policy["img-src"]
