"""The systems around MOM in lab 02's story, each a remote on the bus: Magento Commerce (the store's
connector, remote `mdc`), a warehouse (`wms`) and a payment integration (`payments`).

    from momlab import storefront
    wms = storefront.Warehouse(mom.client)          # files every request_shipment; .acknowledge() and .ship() answer
    payments = storefront.PaymentIntegration()       # acknowledges every payment command
    commerce = storefront.Commerce(exercises=globals())   # the store: its records, and its remote `mdc`
    for remote in (wms, payments, commerce.remote):
        remote.start()
        remote.register(mom.client)

Read any of them with `help(storefront.Commerce)` (or `storefront.Commerce??` for the code). They do
what each system must do around a message: store what it needs, answer the bus, send what follows.

The message names are MOM's own; which real system sends or receives each, and how sure that is, is
in the lab's flow table. Tags as in the course: [doc] documentation, [code] public integration code,
[mock] what mock servers do, [inferred], [unverified].
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from momlab import diagrams
from momlab.receiver import Receiver
from momlab.topics import AGGREGATE_UPDATED as STOCK_UPDATED
from momlab.topics import AUTHORIZE_RETURN as AUTHORIZE
from momlab.topics import CHANGE_STATUS as LINES_CHANGE_STATUS
from momlab.topics import (
    LINES_DECLINED,
    LINES_SHIPPED,
    PRODUCT_UPDATED,
    REFUND_UPDATED,
    REQUEST_SHIPMENT,
    RETURN_UPDATED,
    SHIPMENT_DONE,
    STOCK_UPDATE,
    UPDATED,
)
from momlab.topics import ORDER_CREATE as CREATE

# -- message names ---------------------------------------------------------------------------------

# Payment commands MOM sends a payment integration. validate, revalidate and capture are documented [doc];
# refund and cancel are seen only in the code of a real integration (CyberSource) [code].
DOCUMENTED_PAYMENT_COMMANDS = ("validate", "revalidate", "capture")
CODE_ONLY_PAYMENT_COMMANDS = ("refund", "cancel")
PAYMENT_COMMANDS = tuple(f"magento.payments.payments_management.{op}" for op in DOCUMENTED_PAYMENT_COMMANDS + CODE_ONLY_PAYMENT_COMMANDS)

# The store's two tables (filled by the lab's exercises 4 and 5)
ORDER_COLUMNS = ["store", "status", "status_reason", "status_date", "lines", "shipped", "cancelled"]
SHIPMENT_COLUMNS = ["order_id", "source_id", "units", "tracking", "invoice_amount"]

# -- the order's life, as a plan and as the journal recorded it -------------------------------------
ACTORS = ["Commerce", "MOM", "Warehouse", "Payment"]
ORDER_LIFE = [  # one order on the mock: what the lab's replay sends and receives (statuses as the mock announces them)
    ("Commerce", "MOM", "catalog.product_management.updated"),
    ("Commerce", "MOM", "sales.order_management.create"),
    ("MOM", "Commerce", "sales.order_management.updated (RECEIVED)"),
    ("MOM", "Warehouse", "logistics.warehouse_management.request_shipment"),
    ("MOM", "Commerce", "inventory.aggregate_stock_management.updated"),
    ("MOM", "Commerce", "sales.order_management.updated (LOGISTICS)"),
    ("Warehouse", "MOM", "logistics.shipment_request_management.lines_change_status"),
    ("MOM", "Commerce", "sales.order_management.updated (LOGISTICS)"),
    ("Warehouse", "MOM", "logistics.warehouse_management.lines_shipped"),
    ("MOM", "Commerce", "logistics.fulfillment_management.customer_shipment_done"),
    ("MOM", "Commerce", "sales.order_management.updated (LOGISTICSCOMPLETE)"),
    ("MOM", "Commerce", "sales.order_management.updated (COMPLETE)"),
    ("Commerce", "MOM", "postsales.return_management.authorize"),
    ("MOM", "Commerce", "postsales.return_management.updated (REQUESTED)"),
    ("MOM", "Commerce", "postsales.return_management.updated (APPROVED)"),
    ("MOM", "Commerce", "postsales.refund_management.updated (RELEASED)"),
    ("MOM", "Payment", "payments.payments_management.refund"),
]
SENDERS = {PRODUCT_UPDATED: "Commerce", CREATE: "Commerce", AUTHORIZE: "Commerce", LINES_CHANGE_STATUS: "Warehouse",
           LINES_SHIPPED: "Warehouse", LINES_DECLINED: "Warehouse", STOCK_UPDATE: "Warehouse"}
REMOTES = {"mdc": "Commerce", "wms": "Warehouse", "payments": "Payment"}


def planned_life(title: str = "One order between Magento Commerce and MOM") -> diagrams.Sequence:
    """ORDER_LIFE drawn as a sequence diagram (the picture at the top of the lab's section 2.1)."""
    return diagrams.sequence(ORDER_LIFE, actors=ACTORS, title=title)


def replay(rows, title: str | None = None) -> diagrams.Sequence:
    """Journal rows (a DataFrame from mom.journal()) drawn with the lab's actors: who sent each inbound
    message (SENDERS) and which system each remote is (REMOTES)."""
    steps = diagrams.journal_steps(rows, remotes=REMOTES, senders=SENDERS)
    return diagrams.sequence(steps, actors=ACTORS, title=title)


# -- small helpers ---------------------------------------------------------------------------------
def journal_mark(mom) -> int:
    """The id of the newest row of the mock's journal (0 when it is empty): pass it as
    mom.journal(since=...) to see only what happens after it."""
    return mom.mark()


class OrderIds:
    """new_order_id = OrderIds(mom.client); new_order_id() -> an order id MOM has not seen yet
    ("LAB02-0001", "LAB02-0002", ...)."""

    def __init__(self, client, prefix: str = "LAB02"):
        self.client = client
        self.prefix = prefix
        self._numbers = itertools.count(1)

    def __call__(self) -> str:
        known = {order["id"] for order in self.client.state("orders")}
        while True:
            candidate = f"{self.prefix}-{next(self._numbers):04d}"
            if candidate not in known:
                return candidate


# -- the warehouse ---------------------------------------------------------------------------------
class Warehouse(Receiver):
    """A warehouse on the bus, remote `wms`: the source MOM asks to ship.

    - On `request_shipment` it files the request in `inbox` and answers `{}` at once: the outcome
      follows later, as messages of its own.
    - `requests_for(order_id)`: the requests it holds for an order.
    - `acknowledge(request)`: sends `lines_change_status`, every line `RECEIVEDBYLOGISTICS`/`OSREPORTREC`
      (the warehouse has taken the request).
    - `ship(request, line_ids=None, carrier="UPS")`: sends `lines_shipped` for the request's lines (all,
      or those in line_ids) in one parcel with a tracking number. The message is shaped like the public
      templates: the package lists its lines as line numbers (`items`) and per SKU (`aggregated_items`),
      and the top-level `items` name the shipped lines.
    - `decline(request, line_ids=None)`: sends `lines_declined` for lines it cannot ship:
      `{request_id, items}`, items being order-line ids (the shape seen in a real integration's code [code]).
    Each send returns MOM's answer."""

    def __init__(self, client, secret: str = "wms-secret", id: str = "wms"):
        super().__init__(secret=secret, id=id)
        self.client = client
        self.inbox: list[dict] = []
        self._parcels = itertools.count(1)
        self.on(REQUEST_SHIPMENT)(self.take_request)

    def take_request(self, params: dict) -> dict:
        """The handler for request_shipment: file it for the pickers, acknowledge it."""
        self.inbox.append(params)
        return {}

    def requests_for(self, order_id: str) -> list[dict]:
        """The shipment requests the warehouse holds for an order, oldest first."""
        return [request for request in self.inbox if request["order_id"] == order_id]

    def acknowledge(self, request: dict) -> Any:
        """The warehouse takes the request: its lines become RECEIVEDBYLOGISTICS."""
        items = [{"order_line_id": i["order_line_id"], "sku": i["sku"], "status": "RECEIVEDBYLOGISTICS", "status_reason": "OSREPORTREC"}
                 for i in request["items"]]
        return self.client.call(LINES_CHANGE_STATUS, {"shipment_request_id": request["request_id"], "user": self.id, "items": items})

    def ship(self, request: dict, line_ids=None, carrier: str = "UPS") -> Any:
        """The warehouse ships lines of a request (all of them, or those in line_ids) in one parcel."""
        items = [i for i in request["items"] if line_ids is None or i["order_line_id"] in line_ids]
        tracking = f"1ZLAB02{next(self._parcels):06d}"
        groups: dict[str, dict] = {}
        for i in items:
            group = groups.setdefault(i["sku"], {"aggregated_line_id": i["order_line_id"], "sku": i["sku"], "quantity": 0, "order_lines": []})
            group["quantity"] += 1
            group["order_lines"].append(i["order_line_id"])
        package = {"id": f"PKG-{tracking[-6:]}", "carrier": carrier, "tracking_number": tracking,
                   "tracking_link": f"https://tracking.example/{tracking}", "items": [str(i["order_line_number"]) for i in items],
                   "aggregated_items": list(groups.values()), "details": {"weight": 0.5 * len(items), "weight_unit": "kg"}}
        shipped = [{"order_line_id": i["order_line_id"], "order_line_number": i["order_line_number"], "sku": i["sku"],
                    "status": "SHIPPED", "status_reason": "OSREPORT"} for i in items]
        return self.client.call(LINES_SHIPPED, {"request_id": request["request_id"], "packages": [package], "items": shipped})

    def decline(self, request: dict, line_ids=None) -> Any:
        """The warehouse cannot ship lines of a request (all of them, or those in line_ids)."""
        ids = [i["order_line_id"] for i in request["items"] if line_ids is None or i["order_line_id"] in line_ids]
        return self.client.call(LINES_DECLINED, {"request_id": request["request_id"], "items": ids})


# -- the payment integration -----------------------------------------------------------------------
class PaymentIntegration(Receiver):
    """A payment integration on the bus, remote `payments`, subscribed to PAYMENT_COMMANDS.

    It answers every command with an empty acknowledgement and does nothing else. A real one would
    then ask its gateway and report the outcome to MOM in a separate notification (whose topic names
    are not public [unverified]); lab 04d builds that part."""

    def __init__(self, secret: str = "payments-secret", id: str = "payments"):
        super().__init__(secret=secret, id=id)
        for command in PAYMENT_COMMANDS:
            self.on(command)(self.acknowledge)

    @staticmethod
    def acknowledge(params: dict) -> dict:
        """Every payment command: acknowledged at once, with an empty answer."""
        return {}


# -- Magento Commerce ------------------------------------------------------------------------------
class Commerce:
    """Magento Commerce in the lab: its connector on the bus (`remote`, id `mdc`) and the store's records.

    The remote subscribes to what MOM tells a sales channel, and each handler keeps a record:
    - `order_management.updated`: the order document in `last_order[order_id]`; then the store's order
      table `orders`, through your `apply_order_update(orders, params)` (exercise 4) once it exists;
    - `customer_shipment_done`: the store's shipment table `shipments`, through your
      `add_shipment(shipments, params)` (exercise 5) once it exists;
    - `aggregate_stock_management.updated`: `stock[(aggregate id, sku)]`, what the store may sell;
    - `return_management.updated` and `refund_management.updated`: a note in the log only.
    Every message received is noted in `log` (`log_frame()` shows it as a table). Each handler
    answers `{}`. Your exercise functions are looked up by name in `exercises` (the notebook's
    globals()) at each delivery; when one raises, the failure is noted in the log and the table is
    kept, so one exercise cannot hold up the store's messages."""

    EXERCISES = {"orders": "apply_order_update", "shipments": "add_shipment"}

    def __init__(self, exercises: Mapping[str, Any] | None = None, secret: str = "mdc-secret", id: str = "mdc"):
        self.exercises = exercises if exercises is not None else {}
        self.log: list[dict] = []  # one row per message the store received
        self.last_order: dict[str, dict] = {}  # order id -> the latest `order` document from order_management.updated
        self.stock: dict[tuple[str, str], Any] = {}  # (aggregate id, sku) -> quantity the store may sell
        self.orders = pd.DataFrame({c: pd.Series(dtype=object) for c in ORDER_COLUMNS}).rename_axis("order_id")
        self.shipments = pd.DataFrame({c: pd.Series(dtype=object) for c in SHIPMENT_COLUMNS}).rename_axis("shipment_id")
        self.remote = Receiver(secret=secret, id=id)
        handlers: dict[str, Callable[[dict], dict]] = {UPDATED: self.order_updated, SHIPMENT_DONE: self.shipment_done,
                                                        STOCK_UPDATED: self.stock_updated, RETURN_UPDATED: self.return_updated,
                                                        REFUND_UPDATED: self.refund_updated}
        self.remote.handlers.update(handlers)

    # -- records -----------------------------------------------------------------------------------
    def note(self, message: str, order_id: str | None, detail: str) -> None:
        """Add a row to the store's log."""
        self.log.append({"received": message, "order_id": order_id, "detail": detail})

    def log_frame(self) -> pd.DataFrame:
        """The store's log as a table: what it received, for which order, in short."""
        return pd.DataFrame(self.log, columns=["received", "order_id", "detail"])

    def _use(self, table: str, params: dict) -> None:
        name = self.EXERCISES[table]
        function = self.exercises.get(name)
        if function is None:
            return
        try:
            setattr(self, table, function(getattr(self, table), params))
        except NotImplementedError:
            return
        except Exception as error:
            self.note("your code failed", None, f"{name}: {type(error).__name__}: {error}")

    # -- handlers ----------------------------------------------------------------------------------
    def order_updated(self, params: dict) -> dict:
        """order_management.updated: keep the order document, update the order table."""
        order = params["order"]
        self.last_order[order["id"]] = order
        lines = Counter(line["status"] for line in order["lines"] if line.get("product_type") != "SHIPPING")
        self.note("order updated", order["id"], f"{order['status']}/{order['status_reason']}; lines: {dict(lines)}")
        self._use("orders", params)
        return {}

    def shipment_done(self, params: dict) -> dict:
        """customer_shipment_done: record the shipment."""
        shipment = params["shipment"]
        self.note("shipment done", shipment["order_id"], f"{shipment['shipment_id']}: {len(shipment['items'])} item(s) from {shipment['source_id']}")
        self._use("shipments", params)
        return {}

    def stock_updated(self, params: dict) -> dict:
        """aggregate_stock_management.updated: what the store may sell, per aggregate and SKU."""
        snapshot = params["snapshot"]
        for entry in snapshot["stock"]:
            self.stock[(snapshot["aggregate_id"], entry["sku"])] = entry["quantity"]
        self.note("stock", None, f"{snapshot['aggregate_id']}: " + ", ".join(f"{e['sku']}={e['quantity']}" for e in snapshot["stock"][:4]))
        return {}

    def return_updated(self, params: dict) -> dict:
        """return_management.updated: note the return's status."""
        rma = params["return"]
        self.note("return updated", rma["order_id"], f"{rma['rma']}: {rma['status']['code']}")
        return {}

    def refund_updated(self, params: dict) -> dict:
        """refund_management.updated: note the credit note and its amount (a real store makes a credit memo)."""
        refund = params["refund"]
        amount = sum(float(p["details"]["cost_gross"]) for line in refund["lines"] for p in line.get("payments", []))
        self.note("refund updated", refund["order_id"], f"credit note {refund['credit_note_number']}: {amount:.2f}")
        return {}
