"""momlab.diagrams: sequence diagrams as SVG, from steps or from the journal."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from momlab import diagrams
from momlab.topics import ORDER_CREATE, UPDATED
from tests.support.builders import order_params
from tests.support.mocks import wait_for
from tests.support.rpc import post, rpc

SVG = "{http://www.w3.org/2000/svg}"


def parse(sequence) -> ET.Element:
    return ET.fromstring(sequence.svg)  # well-formed XML, or this raises


def test_a_sequence_is_an_svg_with_one_arrow_per_step():
    steps = [("Commerce", "MOM", "sales.order_management.create"),
             ("MOM", "Commerce", "sales.order_management.updated (RECEIVED)"),
             ("MOM", "Warehouse", "a <tricky> & label")]
    picture = diagrams.sequence(steps, actors=["Commerce", "MOM", "Warehouse", "Payment"], title="Flow & more")
    root = parse(picture)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[0] == "Flow & more"
    assert ["Commerce", "MOM", "Warehouse", "Payment"] == [t for t in texts if t in ("Commerce", "MOM", "Warehouse", "Payment")]
    assert "3. a <tricky> & label" in texts  # escaped in the SVG, the same text once parsed
    arrows = [line for line in root.iter(f"{SVG}line") if line.get("marker-end")]
    assert len(arrows) == 3 and len(picture) == 3
    assert arrows[0].get("stroke-dasharray") is None and arrows[1].get("stroke-dasharray")  # to MOM solid, from MOM dashed
    assert picture._repr_html_() == picture.svg


def test_actors_not_listed_are_added_in_order_of_appearance_and_self_messages_are_drawn():
    picture = diagrams.sequence([("A", "B", "x"), ("C", "C", "to itself")], actors=["B"])
    names = [t.text for t in parse(picture).iter(f"{SVG}text")][:3]
    assert names == ["B", "A", "C"]
    assert any(p.get("marker-end") for p in parse(picture).iter(f"{SVG}path") if p.get("d", "").startswith("M"))


def test_labels_drop_the_prefix_and_show_statuses():
    assert diagrams.label("magento.sales.order_management.updated", {"params": {"order": {"status": "LOGISTICS"}}}) == \
        "sales.order_management.updated (LOGISTICS)"
    assert diagrams.label("magento.postsales.return_management.updated", {"params": {"return": {"status": {"code": "APPROVED"}}}}) == \
        "postsales.return_management.updated (APPROVED)"
    assert diagrams.label("magento.x.y.z", "not json") == "x.y.z"
    assert diagrams.label("other", None) == "other"


def test_journal_steps_follow_the_journal(mock, start_receiver):
    mdc = start_receiver(id="mdc", handlers={UPDATED: lambda p: None})
    mdc.register(mock.client)
    mock.client.call(ORDER_CREATE, order_params("D-1"))
    post(mock, "/api", rpc(ORDER_CREATE, order_params("D-1")))  # refused: a duplicate, left out of the picture
    wait_for(lambda: len([r for r in mock.client.journal(method=UPDATED) if r["status"] == "delivered"]) == 2, what="two updates delivered")
    rows = mock.journal(order_id="D-1")
    steps = diagrams.journal_steps(rows, remotes={"mdc": "Commerce"}, senders={ORDER_CREATE: "Commerce"})
    assert [(s[0], s[1]) for s in steps] == [("Commerce", "MOM"), ("MOM", "Commerce"), ("MOM", "Commerce")]
    assert steps[1][2] == "sales.order_management.updated (RECEIVED)"
    first_id = int(rows.index[0])
    assert steps[0][3] == f"#{first_id} in  ok" and steps[1][3].endswith("delivered")
    # the shipment request had no subscriber: shown only when asked for
    everything = diagrams.journal_steps(rows, unsubscribed=True)
    assert (diagrams.MOM, diagrams.NOBODY) in [(s[0], s[1]) for s in everything]
    picture = diagrams.sequence(steps)
    assert "journal" in [t.text for t in parse(picture).iter(f"{SVG}text")]
    html = diagrams.side_by_side(picture, rows[["method", "status"]], caption="D-1").data
    assert html.count("<svg") == 1 and "<table" in html and "D-1" in html
