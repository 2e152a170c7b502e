"""The system architecture of a MOM integration (exam objective 4.1), drawn as a picture.

    from momlab import architecture
    architecture.diagram()        # shows as a picture in a notebook (an SVG output)
    architecture.LINKS            # what it draws: which messages go between which system and MOM
    architecture.topics()         # the full names of those messages

OMS sits inside the bus (MIB); every other system reaches it through the bus. Each arrow stands for a
group of messages: solid blue towards MOM, dashed orange from MOM (the colours of `momlab.diagrams`);
the carrier's call has a second arrow for its answer, which comes back in the same HTTP exchange
(synchronous). Labels name a message by service and operation (`magento.<module>.` left out);
`Link.topics` holds the full names. The grey line under each label is the confidence of the sources
for it (the course's tags: [doc], [code], [mock], [inferred], [unverified]).

Plain SVG text, like `momlab.diagrams`: it shows in JupyterLab and in nbgrader's feedback pages.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

TO_MOM, FROM_MOM = "#1a5fb4", "#b45309"
WIDTH, HEIGHT = 1130, 660
LEFT, RIGHT = (10, 170), (960, 1120)  # x from-to of the boxes on each side
BUS = (465, 665)  # x from-to of the bus band
LABEL_SIZE = 10.5  # font size of the arrows' labels; everything else is 11 or larger
_LINE = 13  # pixels between two lines of text


@dataclass(frozen=True)
class System:
    """A box: `name` in bold, then the `about` lines; on `side` "left" or "right", from `top` to
    `bottom` (pixels)."""

    key: str
    name: str
    about: tuple[str, ...]
    side: str
    top: int
    bottom: int


@dataclass(frozen=True)
class Link:
    """A group of messages between `system` and MOM, drawn as one arrow at height `y`.

    `to_mom` gives the direction; `lines` is the label; `topics` the full names of the messages it
    stands for (empty when their names are not public); `tag` the sources' confidence; `sync` adds
    the answer's arrow of a synchronous call."""

    system: str
    to_mom: bool
    y: int
    lines: tuple[str, ...]
    topics: tuple[str, ...]
    tag: str
    sync: bool = False


SYSTEMS = (
    System("channel", "Sales channel", ("Magento Commerce and", "its connector (bus", "id: mdc); or a", "marketplace, a POS"),
           "left", 30, 300),
    System("service", "Customer service", ("CRM, reporting, PIM:", "other integrations"), "left", 440, 560),
    System("warehouse", "Warehouse / 3PL", ("a WMS: a source that", "picks, packs, ships"), "right", 24, 300),
    System("carrier", "Carrier", ("tracking numbers,", "labels"), "right", 338, 436),
    System("payment", "Payment", ("a custom payment", "integration in front", "of the gateway"), "right", 474, 640),
)

LINKS = (
    Link("channel", True, 106,
         ("order_management.create", "product_management.updated", "return_management.authorize"),
         ("magento.sales.order_management.create", "magento.catalog.product_management.updated",
          "magento.postsales.return_management.authorize"),
         "[doc]"),
    Link("channel", False, 246,
         ("order_management.updated", "fulfillment_management.customer_shipment_done", "aggregate_stock_management.updated",
          "return_ and refund_management.updated"),
         ("magento.sales.order_management.updated", "magento.logistics.fulfillment_management.customer_shipment_done",
          "magento.inventory.aggregate_stock_management.updated", "magento.postsales.return_management.updated",
          "magento.postsales.refund_management.updated"),
         "[doc]; return and refund updates [mock]"),
    Link("service", True, 530,
         ("order_management.create_comment", "return_management.authorize", "shipment_request_repository.search (a query)"),
         ("magento.sales.order_management.create_comment", "magento.postsales.return_management.authorize",
          "magento.logistics.shipment_request_repository.search"),
         "authorize [doc]; the others [code]"),
    Link("warehouse", False, 84,
         ("warehouse_management.request_shipment",),
         ("magento.logistics.warehouse_management.request_shipment",),
         "[doc]"),
    Link("warehouse", True, 246,
         ("shipment_request_management.lines_change_status", "warehouse_management.lines_shipped",
          "warehouse_management.lines_declined", "source_stock_management.update"),
         ("magento.logistics.shipment_request_management.lines_change_status",
          "magento.logistics.warehouse_management.lines_shipped", "magento.logistics.warehouse_management.lines_declined",
          "magento.inventory.source_stock_management.update"),
         "[doc]; lines_declined [code]"),
    Link("carrier", False, 386,
         ("carrier_management.request_shipping_details",),
         ("magento.logistics.carrier_management.request_shipping_details",),
         "[doc]", sync=True),
    Link("payment", False, 548,
         ("payments_management:", "validate, revalidate, capture,", "refund, cancel"),
         ("magento.payments.payments_management.validate", "magento.payments.payments_management.revalidate",
          "magento.payments.payments_management.capture", "magento.payments.payments_management.refund",
          "magento.payments.payments_management.cancel"),
         "the first three [doc]; refund and cancel [code]"),
    Link("payment", True, 628,
         ("notifications: each command's outcome,", "sent to OMS's delegate URL"),
         (),
         "[doc]; their names are not public [unverified]"),
)

BUS_NOTES = ("every system registers with", "service_bus.remote.register:", "id, url, subscribes, secret [doc]")
OMS_NOTES = ("orders and their statuses,", "sourcing, stock per source", "and per aggregate, returns", "and refunds")
DELIVERY_NOTES = ("delivers each message to the", "url of each remote that", "subscribed to its topic [doc]")
SYNC_ANSWER = ("the answer (tracking, labels) comes", "back in the same call: synchronous")
LEGEND = (("to MOM", TO_MOM, ""), ("from MOM", FROM_MOM, "7 4"))


@dataclass(frozen=True)
class Diagram:
    """A drawn picture: `svg` is its SVG text; a notebook shows it as an image."""

    svg: str

    def _repr_svg_(self) -> str:
        return self.svg


def diagram() -> Diagram:
    """The system architecture of a MOM integration: OMS inside the bus, the systems around it, and
    which messages go which way, with the sources' confidence (help(momlab.architecture): legend)."""
    return Diagram(svg())


def topics() -> list[str]:
    """The full names of the messages the picture stands for, sorted, each once."""
    return sorted({topic for link in LINKS for topic in link.topics})


def svg() -> str:
    """The picture as SVG text."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="DejaVu Sans, Arial, sans-serif" font-size="11" role="img">',
        "<title>The systems around OMS and the bus, and the messages between them</title>",
        "<defs>" + "".join(
            f'<marker id="arch-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            for name, color in (("to", TO_MOM), ("from", FROM_MOM))) + "</defs>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
    ]
    parts += _bus()
    for system in SYSTEMS:
        parts += _box(system)
    for link in LINKS:
        parts += _link(link)
    parts += _legend()
    parts.append("</svg>")
    return "".join(parts)


def label_gap() -> float:
    """The width in pixels between a box and the bus, where the arrows' labels go."""
    return BUS[0] - LEFT[1]


def _text(x: float, y: float, text: str, **attributes: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    return f'<text x="{x}" y="{y}"{extra}>{html.escape(text)}</text>'


def _lines(x: float, y: float, lines: tuple[str, ...], **attributes: str) -> list[str]:
    return [_text(x, y + _LINE * i, line, text_anchor="middle", **attributes) for i, line in enumerate(lines)]


def _bus() -> list[str]:
    left, right = BUS
    middle = (left + right) / 2
    return [
        f'<rect x="{left}" y="8" width="{right - left}" height="{HEIGHT - 16}" rx="10" fill="#f1f3f4" stroke="#5f6368"/>',
        _text(middle, 32, "MIB: the bus", text_anchor="middle", font_weight="bold", font_size="14"),
        _text(middle, 50, "JSON-RPC 2.0 over HTTP [doc]", text_anchor="middle"),
        *_lines(middle, 150, BUS_NOTES, fill="#3c4043"),
        f'<rect x="{left + 16}" y="266" width="{right - left - 32}" height="120" rx="8" fill="#e8f0fe" stroke="#4a6fa5" stroke-width="1.5"/>',
        _text(middle, 292, "OMS", text_anchor="middle", font_weight="bold", font_size="15"),
        *_lines(middle, 314, OMS_NOTES),
        *_lines(middle, 452, DELIVERY_NOTES, fill="#3c4043"),
    ]


def _box(system: System) -> list[str]:
    left, right = LEFT if system.side == "left" else RIGHT
    middle = (left + right) / 2
    top = (system.top + system.bottom) / 2 - (len(system.about) * _LINE + 18) / 2
    return [
        f'<rect x="{left}" y="{system.top}" width="{right - left}" height="{system.bottom - system.top}" rx="8" '
        'fill="#fef7e0" stroke="#a0761a"/>',
        _text(middle, top + 12, system.name, text_anchor="middle", font_weight="bold", font_size="12.5"),
        *_lines(middle, top + 30, system.about),
    ]


def _link(link: Link) -> list[str]:
    side = next(s.side for s in SYSTEMS if s.key == link.system)
    edge, bus = (LEFT[1], BUS[0]) if side == "left" else (RIGHT[0], BUS[1])
    start, end = (edge, bus) if link.to_mom else (bus, edge)
    color, marker = (TO_MOM, "to") if link.to_mom else (FROM_MOM, "from")
    dash = "" if link.to_mom else ' stroke-dasharray="7 4"'
    middle = (edge + bus) / 2
    parts = [f'<line x1="{start}" y1="{link.y}" x2="{end}" y2="{link.y}" stroke="{color}" stroke-width="1.6"{dash} '
             f'marker-end="url(#arch-{marker})"/>']
    above = link.y - 6 - _LINE * len(link.lines)
    parts += _lines(middle, above, link.lines, font_size=str(LABEL_SIZE), fill="#202124")
    parts.append(_text(middle, link.y - 6, link.tag, text_anchor="middle", font_size=str(LABEL_SIZE), fill="#5f6368",
                       font_style="italic"))
    if link.sync:
        back = link.y + 16
        parts.append(f'<line x1="{end}" y1="{back}" x2="{start}" y2="{back}" stroke="{TO_MOM}" stroke-width="1.6" '
                     'marker-end="url(#arch-to)"/>')
        parts += _lines(middle, back + 14, SYNC_ANSWER, font_size=str(LABEL_SIZE), fill="#202124")
    return parts


def _legend() -> list[str]:
    x, y = LEFT[0], HEIGHT - 62
    parts = [_text(x, y, "Arrows: messages through the bus", font_weight="bold")]
    for i, (name, color, dash) in enumerate(LEGEND):
        row = y + 16 + 15 * i
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        marker = "to" if color == TO_MOM else "from"
        parts.append(f'<line x1="{x}" y1="{row - 4}" x2="{x + 40}" y2="{row - 4}" stroke="{color}" stroke-width="1.6"{dashed} '
                     f'marker-end="url(#arch-{marker})"/>')
        parts.append(_text(x + 48, row, name))
    parts.append(_text(x, y + 50, "names: service.operation (magento.<module>. left out)"))
    return parts
