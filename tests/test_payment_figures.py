"""momlab.payment_figures: the warehouse helper of notebooks 04c/04d, and exchanges drawn with their answers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd

from momlab import payment_figures
from momlab.topics import ORDER_CREATE
from tests.support.builders import order_params

VALIDATE = "magento.payments.payments_management.validate"
NOTIFY = "magento.payments.course_placeholder.outcome"
DETAILS = "magento.logistics.carrier_management.request_shipping_details"


def journal(*rows) -> pd.DataFrame:
    """Journal rows as mom.journal() gives them (only the columns the figures read), ids from 1."""
    columns = ["direction", "method", "remote", "status", "error", "order_id", "caused_by", "body", "response"]
    frame = pd.DataFrame([dict(zip(columns, row, strict=True)) for row in rows], index=range(1, len(rows) + 1))
    frame["caused_by"] = frame["caused_by"].astype("Int64")
    return frame


def test_a_command_is_drawn_with_its_empty_acknowledgement_and_the_notification():
    rows = journal(
        ("in", ORDER_CREATE, None, "ok", None, "A-1", None, {}, {"order_id": "A-1"}),
        ("out", "magento.sales.order_management.updated", None, "no_subscriber", None, "A-1", 1, {}, None),
        ("out", VALIDATE, "acmepay", "delivered", None, "A-1", 1, {}, {"jsonrpc": "2.0", "id": "x", "result": {}}),
        ("in", NOTIFY, None, "ok", None, "A-1", None, {}, {"acknowledged": True}),
        ("in", NOTIFY, None, "rejected", "bad", "A-1", None, {}, None),
    )
    steps = payment_figures.exchange_steps(rows, remotes={"acmepay": "payment integration"},
                                           callers={ORDER_CREATE: "sales channel", NOTIFY: "payment integration"})
    assert [(s[0], s[1], s[2]) for s in steps] == [
        ("sales channel", "MOM", "sales.order_management.create"),
        ("MOM", "payment integration", "payments.payments_management.validate"),
        ("payment integration", "MOM", "answer: {}"),
        ("payment integration", "MOM", "payments.course_placeholder.outcome"),
    ]  # nobody subscribed to the update, and the refused notification is left out
    assert steps[1][3] == "#3 out delivered" and steps[2][3] is None
    assert steps[0][3] == "#1 in  ok"  # journals without a route column: no route in the note


def test_a_synchronous_call_gets_its_answer_after_the_delivery_and_a_time_out_has_no_answer_arrow():
    answer = [{"id": "PKG-1", "tracking_number": "T1"}]
    rows = journal(
        ("in", DETAILS, None, "ok", None, None, None, {}, answer),
        ("out", DETAILS, "carrier", "delivered", None, "O-1", 1, {}, {"jsonrpc": "2.0", "id": "a", "result": answer}),
        ("in", DETAILS, None, "failed", "no answer within 2 s", None, None, {}, None),
        ("out", DETAILS, "slow", "failed", "no answer within 2 s", "O-1", 3, {}, None),
        ("in", DETAILS, None, "ok", None, None, None, {}, answer),
        ("out", DETAILS, "carrier", "delivered", None, "O-2", 5, {}, {"jsonrpc": "2.0", "id": "b", "result": answer}),
    )
    rows["route"] = ["api", "delivery", "remote/slow", "delivery", "api", "delivery"]
    steps = payment_figures.exchange_steps(rows, callers={DETAILS: "store"}, answer_callers=True)
    assert [(s[0], s[1]) for s in steps[:7]] == [("store", "MOM"), ("MOM", "carrier"), ("carrier", "MOM"), ("MOM", "store"),
                                                 ("store", "MOM"), ("MOM", "slow"), ("MOM", "store")]
    assert steps[2][2].startswith('answer: [{"id": "PKG-1"') and steps[6][2] == "error: no answer within 2 s"
    assert steps[4][3] == "#3 in  remote/slow failed" and steps[5][3].endswith("failed: no answer within 2 s")

    picture = payment_figures.exchange(rows, callers={DETAILS: "store"}, answer_callers=True, order_id="O-1", title="t")
    assert len(picture) == 7  # the O-2 call is left out, the inbound calls that caused O-1's deliveries kept
    ET.fromstring(picture.svg)


def test_brief_cuts_long_answers():
    assert payment_figures.brief({}) == "{}"
    assert payment_figures.brief("x" * 50, 10) == "x" * 9 + "…"


def test_the_warehouse_ships_the_lines_asked_for(mock):
    ship = payment_figures.warehouse(mock)
    mock.client.call(ORDER_CREATE, order_params("W-1", ("TEE-ORG-S", "SOCK-WOOL")))
    mock.wait_idle()
    ship("W-1", ["L1"])
    lines = mock.state("order_lines", order_id="W-1").set_index("line_id")
    assert lines.loc["L1", "status"] == "SHIPPED" and lines.loc["L2", "status"] != "SHIPPED"
    ship("W-1", ["L2"])
    assert mock.state("order_lines", order_id="W-1").set_index("line_id").loc["L2", "status"] == "SHIPPED"
    assert "Acknowledge and ship" in ship.__doc__  # what help(ship) says in a notebook
