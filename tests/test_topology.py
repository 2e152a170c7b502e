"""momlab.topology: who talks to whom, drawn as SVG (three ways of delivery, the hub of remotes, the tunnel path)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from momlab import topology

SVG = "{http://www.w3.org/2000/svg}"
RED = "#c62828"


def parse(picture: topology.Picture) -> ET.Element:
    assert picture._repr_svg_() == picture.svg
    return ET.fromstring(picture.svg)  # well-formed XML, or this raises


def texts(picture: topology.Picture) -> list[str]:
    return [t.text for t in parse(picture).iter(f"{SVG}text")]


def arrows(picture: topology.Picture) -> list[ET.Element]:
    root = parse(picture)
    return [e for e in [*root.iter(f"{SVG}line"), *root.iter(f"{SVG}path")] if e.get("marker-end")]


def test_three_ways_draws_each_way_with_its_arrows():
    picture = topology.three_ways()
    shown = texts(picture)
    for name in ("synchronous (one to one)", "asynchronous (one to one)", "broadcast (event)"):
        assert name in shown
    assert "empty acknowledgement" in shown and "the caller waits for the result" in shown
    assert len(arrows(picture)) == 12  # four per panel
    assert repr(picture) == "<momlab.topology.Picture: Three ways the bus carries a message>"


def test_hub_shows_each_remote_with_its_topics_from_a_frame_or_dicts():
    remotes = [{"id": "store", "url": "http://127.0.0.1:9/mom", "subscribes": ["magento.sales.order_management.updated"]},
               {"id": "a <b> & c", "url": "https://x.example/mom",
                "subscribes": ["magento.logistics.warehouse_management.request_shipment", "magento.inventory.aggregate_stock_management.updated"]}]
    for given in (remotes, pd.DataFrame(remotes)):
        shown = texts(topology.hub(given))
        assert "store" in shown and "a <b> & c" in shown  # escaped in the SVG, the same text once parsed
        assert "sales.order_management.updated" in shown
        topics = [t for t in shown if t.startswith(("inventory.", "logistics."))]
        assert topics == ["inventory.aggregate_stock_management.updated", "logistics.warehouse_management.request_shipment"]  # sorted
        assert len(arrows(topology.hub(given))) == 2


def test_hub_says_when_nobody_or_nothing_is_there():
    assert any("no remote is registered" in t for t in texts(topology.hub([])))
    assert any("no topic" in t for t in texts(topology.hub([{"id": "idle", "url": "https://idle.example/mom", "subscribes": []}])))


def test_tunnel_path_names_both_ends_and_marks_where_a_delivery_stopped():
    plain = topology.tunnel_path("https://0a1b2c3d.eu.tunnel.momlab.test/mom", "http://127.0.0.1:38177/mom")
    shown = texts(plain)
    assert "0a1b2c3d.eu.tunnel.momlab.test" in shown and "127.0.0.1:38177/mom" in shown
    assert any("cannot reach" in t for t in shown)
    red_arrows = [a for a in arrows(plain) if a.get("stroke") == RED]
    assert len(red_arrows) == 1  # only the direct route to the local URL

    stopped = topology.tunnel_path("https://0a1b2c3d.eu.tunnel.momlab.test/mom", "http://127.0.0.1:38177/mom", stopped="forward")
    red_arrows = [a for a in arrows(stopped) if a.get("stroke") == RED]
    assert [(a.get("x1"), a.get("x2")) for a in red_arrows] == [("574.0", "736.0")]  # the tunnel -> your machine hop, alone in red
    local = topology.tunnel_path("https://0a1b2c3d.eu.tunnel.momlab.test/mom", "http://127.0.0.1:38177/mom", stopped="url")
    assert [a.get("stroke-width") for a in arrows(local) if a.get("stroke") == RED] == ["3"]  # the direct route, drawn bold
    assert any("(forward)" in t for t in texts(stopped))
    boxed = topology.tunnel_path("https://t.eu.tunnel.momlab.test/mom", "http://127.0.0.1:1/mom", stopped="receiver")
    assert [r for r in parse(boxed).iter(f"{SVG}rect") if r.get("stroke") == RED]


@pytest.mark.parametrize("hop", topology.HOPS)
def test_every_hop_can_be_marked(hop):
    assert RED in topology.tunnel_path("https://t.us.tunnel.momlab.test/", "http://127.0.0.1:2/mom", stopped=hop).svg


def test_an_unknown_hop_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="registration, url, tunnel"):
        topology.tunnel_path("https://t.us.tunnel.momlab.test/", "http://127.0.0.1:2/mom", stopped="somewhere")
