"""momlab.architecture: the 4.1 system architecture picture says what the mock's catalog says about each
message's direction, names only real messages, and keeps its labels inside their space."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath

from momlab import architecture
from momlab.bus import catalog

SVG = "{http://www.w3.org/2000/svg}"


def width(text: str, size: float) -> float:
    return TextPath((0, 0), text, size=size, prop=FontProperties(family="DejaVu Sans")).get_extents().width


def test_the_picture_is_an_svg_with_an_arrow_per_message_group():
    root = ET.fromstring(architecture.svg())  # well-formed, or this raises
    arrows = [line for line in root.iter(f"{SVG}line") if line.get("marker-end")]
    answers = sum(link.sync for link in architecture.LINKS)
    assert len(arrows) == len(architecture.LINKS) + answers + len(architecture.LEGEND)
    assert architecture.diagram()._repr_svg_() == architecture.svg()
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for system in architecture.SYSTEMS:
        assert system.name in texts


@pytest.mark.parametrize("link", architecture.LINKS, ids=lambda link: f"{link.system}-{'in' if link.to_mom else 'out'}")
def test_each_arrow_points_the_way_its_messages_travel(link):
    for topic in link.topics:
        message = catalog.get(topic)
        assert message is not None, f"{topic} is not a message the mock knows"
        assert message.direction == ("to_mom" if link.to_mom else "from_mom"), topic
        assert link.sync == (message.delivery == "sync") or link.to_mom, topic  # a query to MOM is answered at once too
        operation = topic.rsplit(".", 1)[1]
        assert any(operation in line for line in link.lines), f"the label of {topic} does not name {operation}"


def test_every_arrow_carries_a_confidence_tag():
    for link in architecture.LINKS:
        assert "[" in link.tag and "]" in link.tag, link
    unnamed = [link for link in architecture.LINKS if not link.topics]
    assert unnamed and all("[unverified]" in link.tag for link in unnamed)  # no invented names


def test_payment_commands_carry_the_tags_of_their_sources():
    payment = next(link for link in architecture.LINKS if link.system == "payment" and not link.to_mom)
    assert "[doc]" in payment.tag and "[code]" in payment.tag
    assert {t.rsplit(".", 1)[1] for t in payment.topics} == {"validate", "revalidate", "capture", "refund", "cancel"}


def test_labels_fit_between_the_boxes_and_the_bus():
    gap = architecture.label_gap()
    assert gap == architecture.RIGHT[0] - architecture.BUS[1]
    for link in architecture.LINKS:
        for line in (*link.lines, link.tag, *(architecture.SYNC_ANSWER if link.sync else ())):
            assert width(line, architecture.LABEL_SIZE) < gap - 8, line
    box = architecture.LEFT[1] - architecture.LEFT[0]
    for system in architecture.SYSTEMS:
        for line in system.about:
            assert width(line, 11) < box - 8, line


def test_topics_are_the_full_names_once_each():
    names = architecture.topics()
    assert names == sorted(set(names)) and all(name.startswith("magento.") for name in names)
    assert "magento.logistics.warehouse_management.lines_shipped" in names
