"""momlab.pipeline: the connector's pipeline (env.php -> register -> MIB -> mcom_api_messages -> process ->
Message Log) as SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from momlab import pipeline

SVG = "{http://www.w3.org/2000/svg}"


def texts(picture) -> list[str]:
    return [t.text for t in ET.fromstring(picture.svg).iter(f"{SVG}text")]  # well-formed XML, or this raises


def test_the_picture_names_every_stage_in_order():
    picture = pipeline.draw()
    found = texts(picture)
    names = ["app/etc/env.php", "oms:service-bus:register", "MIB: Magento Integration Bus", "mcom_api_messages",
             "oms:messages:process", "Message Log"]
    assert all(name in found for name in names)
    order = [found.index(name) for name in names if name != "MIB: Magento Integration Bus"]
    assert order == sorted(order)  # the Commerce side left to right
    assert picture._repr_svg_() == picture.svg and picture.svg.startswith("<svg")
    assert [stage.key for stage in pipeline.STAGES] == list(pipeline.KEYS)
    assert all(stage.confidence.startswith("[") for stage in pipeline.STAGES)


def test_highlighted_stages_are_red_and_notes_are_written_escaped():
    plain = ET.fromstring(pipeline.draw().svg)
    marked = pipeline.draw(highlight="mcom_api_messages", notes={"log": "2 <ERROR> & more"}, title="A & B")
    root = ET.fromstring(marked.svg)
    red = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == "#c62828"]
    assert len(red) == 1 and not [r for r in plain.iter(f"{SVG}rect") if r.get("stroke") == "#c62828"]
    assert "2 <ERROR> & more" in texts(marked) and texts(marked)[0] == "A & B"
    assert marked.highlight == ("mcom_api_messages",) and marked.notes == (("log", "2 <ERROR> & more"),)
    assert int(root.get("height")) > int(plain.get("height"))  # room for the title


def test_an_unknown_stage_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="the stages are env.php, register, MIB"):
        pipeline.draw(highlight=["queue"])
    with pytest.raises(ValueError, match="'cron'"):
        pipeline.draw(notes={"cron": "x"})
