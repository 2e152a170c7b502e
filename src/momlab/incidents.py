"""Lab 05's tools (troubleshooting): the topics the lab sends and reads, fresh order ids, a warehouse's
`lines_shipped` for a shipment request, short views of journals and logs, and the order in which the
course looks for evidence when a message failed.

    new_order_id = incidents.order_ids(mom)     # new_order_id() -> "LAB05-0001", an id MOM has not seen
    ship = incidents.shipper(mom)               # ship(request) -> lines_shipped for all its lines
    incidents.short(mom.journal(), ["method", "status"])
    incidents.where_to_look()                   # the course's troubleshooting order, as a table
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from momlab.topics import LINES_SHIPPED

# The course's order for "a message failed" (labs 03, 05 and 06): where to look first, and why.
WHERE_TO_LOOK = (
    ("1. the message log / journal",
     "MCOM > Message Log on the Commerce side; OMS's API Journal (System > Events); in this course, the mock's journal",
     "which message failed, on which delivery, with which error, how many tries"),
    ("2. the integration's own log",
     "the remote's log (a warehouse, a payment service, your own code); fatal PHP errors in the web server's error log",
     "whether the message arrived, whether its signature held, what the code did with it"),
    ("3. the status page",
     "status.adobe.com (formerly status.magento.com)",
     "whether MOM itself has an incident or maintenance: then many messages fail at once, and your code may be fine"),
)

_numbers = itertools.count(1)


def order_ids(mom, prefix: str = "LAB05") -> Callable[[], str]:
    """A function that returns, at each call, an order id MOM has not seen yet ("LAB05-0001", ...)."""

    def new_order_id(prefix: str = prefix) -> str:
        """An order id MOM has not seen yet."""
        known = {order["id"] for order in mom.client.state("orders")}
        while True:
            candidate = f"{prefix}-{next(_numbers):04d}"
            if candidate not in known:
                return candidate

    return new_order_id


def shipped_params(request: dict) -> dict:
    """The params of the lines_shipped a warehouse sends when it has shipped every line of a shipment
    request (as the warehouse received it: request_id, items, aggregated_items), in one UPS package."""
    tracking = f"1ZLAB05{next(_numbers):06d}"
    return {
        "request_id": request["request_id"],
        "packages": [{"id": f"PKG-{tracking[-6:]}", "carrier": "UPS", "tracking_number": tracking,
                      "items": [item["order_line_number"] for item in request["items"]],
                      "aggregated_items": request["aggregated_items"]}],
        "items": [{"order_line_id": i["order_line_id"], "order_line_number": i["order_line_number"], "sku": i["sku"],
                   "status": "SHIPPED", "status_reason": "OSREPORT"} for i in request["items"]],
    }


def shipper(mom) -> Callable[[dict], dict]:
    """A function ship(request) that sends MOM the lines_shipped for every line of a shipment request
    (see shipped_params) and returns MOM's answer."""

    def ship(request: dict) -> dict:
        """Send lines_shipped for every line of this shipment request; MOM's answer."""
        return mom.client.call(LINES_SHIPPED, shipped_params(request))

    return ship


def short(frame, columns: list[str]):
    """A journal or log extract with only these columns, each method shortened to its last part
    ("magento.sales.order_management.create" -> "create"), for reading."""
    out = frame[columns].copy()
    if "method" in out:
        out["method"] = out["method"].str.rsplit(".", n=1).str[-1]
    return out


def where_to_look():
    """The course's troubleshooting order when a message failed, as a DataFrame: where, what it is
    called, and what it tells you."""
    import pandas as pd

    return pd.DataFrame(WHERE_TO_LOOK, columns=["look", "where", "what it tells you"]).set_index("look")
