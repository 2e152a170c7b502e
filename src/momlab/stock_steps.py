"""Lab 07's bench: the mock MOM with four other systems on the bus, and ways to watch stock and
order lines change step by step.

    bench = stock_steps.bench(mom)        # Commerce's connector, a warehouse, a carrier, a gateway
    bench.fresh_start()                   # the course's starting stock, no orders, the four registered
    bench.stock_row("AGG-WEB", "TEE-ORG-L")
    stock_steps.step_bars(table)          # a step table drawn as stacked bars
    stock_steps.mode_bars(comparison)     # FULL vs NONZERO, before and after, per SKU

What the other systems do is the least that lets an order run to its end: Commerce's connector
(`mdc`) and the warehouse (`wms`) only listen, the carrier answers MOM's synchronous request with a
tracking number per package, and the payment gateway acknowledges every payment command. Admin
actions (`mom.admin.*`), the journal and its routes are the mock's own, not MOM's.
"""

from __future__ import annotations

import itertools
import textwrap
from typing import Any

from momlab import diagrams, figures, orders
from momlab.bus import stock_levels
from momlab.receiver import Receiver
from momlab.topics import (
    AGGREGATE_UPDATED,
    CHANGE_STATUS,
    LINES_SHIPPED,
    ORDER_CREATE,
    PAYMENTS,
    REFUND_UPDATED,
    REQUEST_SHIPMENT,
    RETURN_UPDATED,
    SHIPMENT_DONE,
    SHIPPING_DETAILS,
    STOCK_UPDATE,
    UPDATED,
)
from momlab.topics import AUTHORIZE_RETURN as RETURN_AUTHORIZE

PAYMENT_COMMANDS = ("validate", "revalidate", "capture", "refund", "cancel")  # the first three [doc], the last two [code]

CHANNEL_OF = {"AGG-WEB": "WEB-US", "AGG-RETAIL": "POS-BCN"}  # a sales channel selling from each aggregate
STOCK_COLUMNS = ("on_hand", "in_flight", "soft_allocated", "available")

ACTORS = {"mdc": "Commerce", "wms": "Warehouse", "carrier": "Carrier", "gateway": "Payments"}
SENDERS = {ORDER_CREATE: "Commerce", RETURN_AUTHORIZE: "Commerce", LINES_SHIPPED: "Warehouse",
           CHANGE_STATUS: "Warehouse", STOCK_UPDATE: "Warehouse"}


class Bench:
    """The mock `mom` with four systems on its bus (`mdc`, `wms`, `carrier`, `gateway`, each a started
    Receiver) and the lab's helpers. Make it with `stock_steps.bench(mom)`."""

    def __init__(self, mom: Any):
        self.mom = mom
        self.mdc = Receiver(secret="mdc-secret", id="mdc")
        for topic in (UPDATED, SHIPMENT_DONE, AGGREGATE_UPDATED, RETURN_UPDATED, REFUND_UPDATED):
            self.mdc.on(topic)(_acknowledge)
        self.wms = Receiver(secret="wms-secret", id="wms")
        self.wms.on(REQUEST_SHIPMENT)(_acknowledge)
        self.carrier = Receiver(secret="carrier-secret", id="carrier")
        self.carrier.on(SHIPPING_DETAILS)(self._shipping_details)
        self.gateway = Receiver(secret="gateway-secret", id="gateway")
        for command in PAYMENT_COMMANDS:
            self.gateway.on(PAYMENTS + command)(_acknowledge)
        self._parcels = itertools.count(1001)
        self._numbers = itertools.count(1)
        for receiver in self.receivers:
            receiver.start()

    @property
    def receivers(self) -> tuple[Receiver, ...]:
        return (self.mdc, self.wms, self.carrier, self.gateway)

    def _shipping_details(self, params: dict) -> list[dict]:
        """The carrier's synchronous answer: one DHL tracking number and link per package."""
        answer = []
        for package in params["shipment"]["packages"]:
            number = f"JD{next(self._parcels):08d}"
            answer.append({"id": package["id"], "carrier": "DHL", "tracking_number": number,
                           "tracking_link": f"https://dhl.example/track/{number}"})
        return answer

    def stop(self) -> None:
        """Stop the four receivers."""
        for receiver in self.receivers:
            receiver.stop()

    def fresh_start(self) -> None:
        """The course's starting stock, no orders, the four systems registered again."""
        self.mom.reset()
        for receiver in self.receivers:
            receiver.register(self.mom.client)

    def new_order_id(self, prefix: str = "LAB07") -> str:
        """An order id the mock has not seen yet: PREFIX-0001, PREFIX-0002, ..."""
        known = {order["id"] for order in self.mom.client.state("orders")}
        while True:
            candidate = f"{prefix}-{next(self._numbers):04d}"
            if candidate not in known:
                return candidate

    def journal_mark(self) -> int:
        """The id of the newest journal row: pass it as since= to see only what happens after it."""
        return self.mom.mark()

    def stock_row(self, aggregate_id: str, sku: str) -> dict:
        """One SKU in one stock aggregate: {on_hand, in_flight (hard), soft_allocated, available}."""
        rows = [r for r in self.mom.client.state("aggregate_stock", aggregate_id=aggregate_id) if r["sku"] == sku]
        return {k: rows[0][k] for k in STOCK_COLUMNS} if rows else dict.fromkeys(STOCK_COLUMNS, 0)

    def aggregates_of(self, source_id: str) -> list[str]:
        """The stock aggregates that contain the source."""
        return stock_levels.aggregates_of(self.mom.store.connection(), [source_id])

    def line_states(self, order_id: str):
        """An order's lines as OMS sees them now (a DataFrame indexed by line_id)."""
        import pandas as pd

        columns = ["line_id", "sku", "product_type", "status", "status_reason", "source_id", "request_id"]
        return pd.DataFrame(self.mom.client.state("order_lines", order_id=order_id))[columns].set_index("line_id")

    def source_availability(self, aggregate_id: str, skus) -> dict[str, dict[str, float]]:
        """{source: {sku: units available}} for the aggregate's sources, in sourcing priority order."""
        db = self.mom.store.connection()
        return {source: {sku: level for sku, (level, _) in stock_levels.available_many(db, [source], skus).items()}
                for source in stock_levels.sources_of(db, aggregate_id)}

    def ship_all(self, order_id: str) -> None:
        """The warehouse ships every open line of the order's shipment requests (lines_shipped)."""
        open_lines = [line for line in self.mom.client.state("order_lines", order_id=order_id)
                      if line["request_id"] and line["status"] not in ("SHIPPED", "CANCELLED")]
        for request_id in sorted({line["request_id"] for line in open_lines}):
            items = [{"order_line_id": line["line_id"]} for line in open_lines if line["request_id"] == request_id]
            self.mom.client.call(LINES_SHIPPED, {"request_id": request_id, "items": items})

    def allocation_scenario(self, aggregate_id: str, sku: str) -> tuple[str, list[dict]]:
        """One unit of `sku` ordered in batch mode on a channel of `aggregate_id`, followed through.

        Returns (the source the wave chose, four steps), each step {aggregate: stock_row} for every
        aggregate that contains that source: before the order, once it is accepted (waiting for the
        wave), once the wave has sourced it, once the warehouse has shipped it."""
        everywhere = list(CHANNEL_OF)
        self.mom.admin.sourcing_mode(aggregate_id, "batch")
        try:
            seen = [{a: self.stock_row(a, sku) for a in everywhere}]
            order_id = self.new_order_id("SCENARIO")
            self.mom.client.call(ORDER_CREATE, orders.order_params(order_id, [sku], store=CHANNEL_OF[aggregate_id]))
            seen.append({a: self.stock_row(a, sku) for a in everywhere})
            self.mom.admin.run_sourcing(aggregate_id)
            seen.append({a: self.stock_row(a, sku) for a in everywhere})
            self.ship_all(order_id)
            seen.append({a: self.stock_row(a, sku) for a in everywhere})
        finally:
            self.mom.admin.sourcing_mode(aggregate_id, "direct")
        (source,) = {line["source_id"] for line in self.mom.client.state("order_lines", order_id=order_id)
                     if line["sku"] == sku}
        holding = [a for a in everywhere if a in self.aggregates_of(source)]
        return source, [{a: step[a] for a in holding} for step in seen]

    def flow_diagram(self, rows, title: str | None = None) -> diagrams.Sequence:
        """A sequence diagram of journal rows; admin actions are drawn from 'OMS screens'."""
        rows = rows.copy()
        admin = rows["route"].astype(str).str.startswith("admin/")
        rows.loc[admin, "method"] = "admin: " + rows.loc[admin, "route"].str[len("admin/"):]
        senders = {**SENDERS, **{m: "OMS screens" for m in rows.loc[admin, "method"]}}
        return diagrams.sequence(diagrams.journal_steps(rows, remotes=ACTORS, senders=senders), title=title)


_current: Bench | None = None


def bench(mom: Any) -> Bench:
    """The bench for this mock: made (receivers started) on the first call, the same one afterwards.
    A bench made for another mock is stopped first."""
    global _current
    if _current is not None and _current.mom is mom:
        return _current
    if _current is not None:
        _current.stop()
    _current = Bench(mom)
    return _current


def _acknowledge(params: dict) -> dict:
    return {}


# -- figures ---------------------------------------------------------------------------------------
_AVAILABLE, _SOFT, _HARD = "#6baed6", "#fdae6b", "#de2d26"


def step_bars(table, title: str | None = None):
    """A step table (index (step, aggregate), columns on_hand, in_flight, soft_allocated, available)
    as stacked bars, one panel per aggregate: available, then units held softly, then units hard in
    flight; a black tick marks on_hand. Where nothing is clamped, the stack is exactly on_hand."""
    aggregates = list(dict.fromkeys(table.index.get_level_values(1)))
    steps = list(dict.fromkeys(table.index.get_level_values(0)))
    fig = figures.figure(4.0 * len(aggregates), 4.0)
    axes = fig.subplots(1, len(aggregates), sharey=True, squeeze=False)[0]
    for ax, aggregate in zip(axes, aggregates, strict=True):
        rows = [table.loc[(step, aggregate)] for step in steps]
        x = list(range(len(steps)))
        bottom = [0.0] * len(steps)
        for column, colour, name in (("available", _AVAILABLE, "available"), ("soft_allocated", _SOFT, "held soft (aggregate)"),
                                     ("in_flight", _HARD, "in flight, hard (source)")):
            values = [float(row[column]) for row in rows]
            ax.bar(x, values, bottom=bottom, color=colour, width=0.6, label=name, edgecolor="white", linewidth=0.6)
            for i, value in enumerate(values):
                if value:
                    ax.text(i, bottom[i] + value / 2, f"{value:g}", ha="center", va="center", fontsize=8)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.scatter(x, [float(row["on_hand"]) for row in rows], marker="_", s=900, color="black", linewidths=2,
                   label="on hand", zorder=3)
        ax.set_xticks(x, [textwrap.fill(str(step), 12) for step in steps], fontsize=8)
        ax.set_title(aggregate, loc="left", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("units")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=len(names), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    return fig


def mode_bars(comparison, modes: tuple[str, ...] = ("FULL", "NONZERO"), title: str | None = None):
    """Before/after bars per SKU, one panel per mode. `comparison` is indexed by SKU with the columns
    `before`, `after <MODE>` and `listed` (True for the SKUs the snapshot lists): grey is the quantity
    before the snapshot, colour after it; the SKUs the snapshot lists are marked with *."""
    order = comparison.sort_values(["listed", "before"], ascending=[True, True])
    labels = [f"{sku} *" if listed else sku for sku, listed in zip(order.index, order["listed"], strict=True)]
    y = list(range(len(order)))
    fig = figures.figure(4.0 * len(modes) + 1.6, 0.24 * len(order) + 1.4)
    axes = fig.subplots(1, len(modes), sharey=True, squeeze=False)[0]
    for ax, mode, colour in zip(axes, modes, ("#3182bd", "#e6550d", "#31a354"), strict=False):
        ax.barh(y, order["before"].astype(float), height=0.8, color="#d9d9d9", label="before")
        ax.barh(y, order[f"after {mode}"].astype(float), height=0.4, color=colour, label=f"after {mode}")
        ax.set_title(f"{mode} (* = listed in the snapshot)", loc="left", fontsize=10)
        ax.set_xlabel("units at the source")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    axes[0].set_yticks(y, labels, fontsize=8)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    return fig
