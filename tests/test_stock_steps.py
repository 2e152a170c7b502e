"""momlab.stock_steps: lab 07's bench (four systems on a real mock's bus, stock and line views, the
allocation scenario) and its two figures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from momlab import orders, stock_steps
from tests.support import mocks


@pytest.fixture
def bench(mock, teardown) -> stock_steps.Bench:
    made = stock_steps.Bench(mock)
    for receiver in made.receivers:
        teardown.callback(mocks.stop_soon, receiver)
    made.fresh_start()
    return made


def svg_of(fig) -> str:
    """The figure's SVG, checked well-formed; matplotlib draws text as paths, each after a comment
    holding the text, so the text is still findable."""
    text = stock_steps.figures.svg(fig)
    ET.fromstring(text)  # well-formed, or this raises
    return text


def test_the_four_systems_are_registered_and_a_fresh_start_empties_the_orders(bench, mock):
    mock.client.call(stock_steps.ORDER_CREATE, orders.order_params(bench.new_order_id(), ["TEE-ORG-S"]))
    bench.fresh_start()
    assert {r["id"] for r in mock.client.state("remotes")} == {"mdc", "wms", "carrier", "gateway"}
    assert mock.client.state("orders") == []
    assert bench.new_order_id("X") != bench.new_order_id("X")


def test_stock_row_reads_one_sku_and_an_unknown_sku_is_all_zero(bench):
    row = bench.stock_row("AGG-WEB", "TEE-ORG-L")
    assert set(row) == set(stock_steps.STOCK_COLUMNS) and row["on_hand"] == 12 and row["available"] == 12
    assert bench.stock_row("AGG-WEB", "NO-SUCH-SKU") == dict.fromkeys(stock_steps.STOCK_COLUMNS, 0)


def test_the_allocation_scenario_holds_softly_on_one_aggregate_then_hard_on_every_aggregate_of_the_source(bench):
    source, steps = bench.allocation_scenario("AGG-WEB", "CANDLE-CEDAR")
    assert source == "WH-EAST" and len(steps) == 4
    before, accepted, sourced, shipped = steps
    assert set(before) == {"AGG-WEB", "AGG-RETAIL"}  # WH-EAST is in both
    assert accepted["AGG-WEB"]["soft_allocated"] == before["AGG-WEB"]["soft_allocated"] + 1
    assert accepted["AGG-RETAIL"] == before["AGG-RETAIL"]
    for aggregate in before:
        assert sourced[aggregate]["in_flight"] == before[aggregate]["in_flight"] + 1
        assert shipped[aggregate]["on_hand"] == before[aggregate]["on_hand"] - 1
    assert bench.mom.client.state("orders")[0]["id"].startswith("SCENARIO-")


def test_a_source_in_one_aggregate_gives_rows_of_that_aggregate_only_and_direct_mode_comes_back(bench, mock):
    source, steps = bench.allocation_scenario("AGG-WEB", "HOOD-GRY-M")  # only WH-WEST has one
    assert source == "WH-WEST" and all(set(step) == {"AGG-WEB"} for step in steps)
    order_id = bench.new_order_id()
    mock.client.call(stock_steps.ORDER_CREATE, orders.order_params(order_id, ["TEE-ORG-S"]))
    assert bench.line_states(order_id).loc["1", "source_id"]  # sourced at once: the aggregate is direct again


def test_source_availability_lists_the_sources_in_priority_order(bench):
    availability = bench.source_availability("AGG-WEB", ["TEE-ORG-M", "CAP-NAVY"])
    assert list(availability) == ["WH-EAST", "WH-WEST"]
    assert availability["WH-WEST"]["CAP-NAVY"] == 3 and availability["WH-EAST"]["TEE-ORG-M"] == 2


def test_the_flow_diagram_draws_admin_actions_from_oms_screens(bench, mock):
    mark = bench.journal_mark()
    mock.admin.sourcing_mode("AGG-WEB", "batch")
    mock.client.call(stock_steps.ORDER_CREATE, orders.order_params(bench.new_order_id(), ["TEE-ORG-S"]))
    mock.admin.run_sourcing()
    mock.admin.sourcing_mode("AGG-WEB", "direct")
    assert mock.wait_idle()
    picture = bench.flow_diagram(mock.journal(since=mark), "batch")
    senders = {step[0] for step in picture.steps}
    assert {"OMS screens", "Commerce"} <= senders
    assert any("admin: run_sourcing" in step[2] for step in picture.steps)


def test_bench_is_made_once_per_mock_and_a_new_mock_stops_the_old_bench(start_mock, teardown):
    first_mock, second_mock = start_mock(), start_mock()
    teardown.callback(setattr, stock_steps, "_current", None)
    first = stock_steps.bench(first_mock)
    teardown.callback(first.stop)
    assert stock_steps.bench(first_mock) is first
    second = stock_steps.bench(second_mock)
    teardown.callback(second.stop)
    assert second is not first and second.mom is second_mock
    assert not any(receiver.running for receiver in first.receivers)


def step_table() -> pd.DataFrame:
    rows = []
    for step, web, retail in (("before", (12, 1, 0), (13, 1, 0)), ("1 accepted (soft)", (12, 1, 1), (13, 1, 0)),
                              ("2 sourced (hard)", (12, 2, 0), (13, 2, 0)), ("sold out", (1, 1, 1), (1, 2, 0))):
        for aggregate, (on_hand, hard, soft) in (("AGG-WEB", web), ("AGG-RETAIL", retail)):
            rows.append({"step": step, "aggregate": aggregate, "on_hand": on_hand, "in_flight": hard,
                         "soft_allocated": soft, "available": max(0, on_hand - hard - soft)})
    return pd.DataFrame(rows).set_index(["step", "aggregate"])


def test_step_bars_draw_one_panel_per_aggregate_with_the_steps_and_a_legend():
    fig = stock_steps.step_bars(step_table(), "TEE-ORG-L, step by step")
    assert len(fig.axes) == 2 and [ax.get_title(loc="left") for ax in fig.axes] == ["AGG-WEB", "AGG-RETAIL"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][0] == "before"
    text = svg_of(fig)
    assert all(f"<!-- {words} -->" in text for words in ("TEE-ORG-L, step by step", "held soft (aggregate)", "in flight, hard (source)"))
    assert fig._repr_svg_().startswith("<svg")


def test_mode_bars_put_the_listed_skus_on_top_and_one_panel_per_mode():
    comparison = pd.DataFrame({"before": {"A": 5, "B": 2, "C": 0}, "after FULL": {"A": 3, "B": 2, "C": 0},
                               "after NONZERO": {"A": 3, "B": 0, "C": 0}})
    comparison["listed"] = comparison.index == "A"
    fig = stock_steps.mode_bars(comparison, title="three SKUs")
    assert len(fig.axes) == 2 and fig.axes[1].get_title(loc="left").startswith("NONZERO")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "A *" and set(labels) == {"A *", "B", "C"}  # the last label is drawn on top
    assert "<!-- three SKUs -->" in svg_of(fig)
