"""OMS's own screens and jobs, which no bus message drives, as Python calls: `mom.admin`.

Real OMS does some of its work without any message on the bus: a sourcing wave runs on a schedule
set in the SI Portal, a store associate confirms a picked line in the In-Store Interface, support
switches an aggregate to batch sourcing. The public record names no message for any of these, so
the mock offers them as admin actions. Each one is journaled as an inbound row with the route
`admin/<action>` (no method: it is not a bus message), and what it sets off is linked to that row
by `caused_by`, like the messages an inbound message causes.

    mom.admin.sourcing_mode("AGG-WEB", "batch")
    mom.admin.run_sourcing()
    mom.admin.pick("100000042", confirm=["1"], decline=["2"])

A refused action raises RpcError (momlab.MomError to a notebook: the same class) with a message that says what to fix.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import fastjsonschema

from momlab.bus import catalog, delivery, journal
from momlab.bus.config import Config
from momlab.bus.context import Context
from momlab.bus.delivery import Deliverer
from momlab.bus.flows import allocation, instore, postsales
from momlab.bus.jsonrpc import REMOTE_FAILED, UNKNOWN_ENTITY, Doc, RpcError
from momlab.bus.store import Store

if TYPE_CHECKING:
    import pandas as pd

_Result = TypeVar("_Result")


class RunningMock(Protocol):
    """What the admin actions need of a running mock (momlab.mock.Mock)."""

    store: Store
    config: Config
    deliverer: Deliverer


class Admin:
    def __init__(self, mock: RunningMock):
        self._mock = mock

    # -- sourcing (SI Portal settings and the sourcing engine) -----------------------------------
    def sourcing_mode(self, aggregate_id: str, mode: str = "batch") -> Doc:
        """Source an aggregate's orders at once ('direct', the default) or in waves ('batch')."""
        return self._run("sourcing_mode", {"aggregate_id": aggregate_id, "mode": mode}, lambda ctx: allocation.set_mode(ctx, aggregate_id, mode))

    def run_sourcing(self, aggregate_id: str | None = None, as_of: str | None = None) -> Doc:
        """Run a batch-sourcing wave now (for one aggregate, or all). `as_of` (an ISO date) is the
        day the wave runs for pre-order street dates; today by default."""
        args = {"aggregate_id": aggregate_id, "as_of": as_of}
        return self._run("run_sourcing", args, lambda ctx: allocation.run_wave(ctx, aggregate_id, as_of))

    def waiting_lines(self) -> pd.DataFrame:
        """The order lines queued for the next wave (soft-allocated), as a DataFrame."""
        import pandas as pd

        rows = self._mock.store.query("SELECT order_id, line_id, aggregate_id, sku, street_date FROM sourcing_queue ORDER BY queued_at, rowid")
        return pd.DataFrame([dict(r) for r in rows], columns=["order_id", "line_id", "aggregate_id", "sku", "street_date"])

    # -- the In-Store Interface -------------------------------------------------------------------
    def store_fulfilment(self, source_id: str, enabled: bool = True) -> Doc:
        """Let a store work its ship-from-store requests in the In-Store Interface (or stop)."""
        return self._run("store_fulfilment", {"source_id": source_id, "enabled": enabled}, lambda ctx: instore.set_store_fulfilment(ctx, source_id, enabled))

    def pick_list(self, source_id: str | None = None) -> pd.DataFrame:
        """Generate Pick List: the lines waiting to be picked (PICKREADY), as a DataFrame."""
        import pandas as pd

        columns = ["store", "order_id", "request_id", "line_id", "line_number", "sku", "status", "kind", "pickup_location"]
        return pd.DataFrame(instore.pick_list(self._mock.store.connection(), source_id), columns=columns)

    def pick(self, order_id: str, confirm: Iterable[Any] = (), decline: Iterable[Any] = ()) -> Doc:
        """The associate confirms the lines found on the shelf and declines the others."""
        confirm, decline = list(confirm), list(decline)  # read once: they may be iterators
        args = {"order_id": str(order_id), "confirm": confirm, "decline": decline}
        return self._run("pick", args, lambda ctx: instore.pick(ctx, order_id, confirm, decline), order_id)

    def collect(self, order_id: str) -> Doc:
        """In-store pickup: the customer collects the confirmed lines at the counter."""
        return self._run("collect", {"order_id": str(order_id)}, lambda ctx: instore.collect(ctx, order_id), order_id)

    def receive_transfer(self, order_id: str) -> Doc:
        """Ship to store: the units sent to the pickup store arrive there."""
        return self._run("receive_transfer", {"order_id": str(order_id)}, lambda ctx: instore.receive_transfer(ctx, order_id), order_id)

    def pack(self, order_id: str, packages: list[Doc] | None = None, request_id: str | None = None) -> Doc:
        """Ship from store: pack the confirmed lines, ask the carrier integration for tracking
        (carrier_management.request_shipping_details, synchronous), and ship the parcel."""
        mock = self._mock
        args = {"order_id": str(order_id), "request_id": request_id, "packages": packages}
        method = instore.REQUEST_SHIPPING_DETAILS
        with mock.store.transaction() as db:
            ctx, admin_row = self._context(db, "pack", args, order_id)
            request, line_ids, params = instore.packing(ctx, order_id, request_id, packages)
            carriers = ctx.subscribers(method)
            if not carriers:
                raise RpcError(
                    UNKNOWN_ENTITY,
                    f"No carrier integration subscribes to {method}, so nobody can give the parcel a tracking number. "
                    "Register one first (a momlab.Receiver with a handler for it).",
                    {"path": "$.method"},
                )
        _, outcome = delivery.call_now(mock.store, mock.config, carriers[0], method, params, str(order_id), admin_row)
        problem = None if outcome.ok else f"the carrier {carriers[0]!r} did not answer: {outcome.error}"
        if problem is None:
            problems = _result_problems(method, outcome.result)
            problem = f"the carrier's answer does not fit: {problems[0]}" if problems else None
        try:
            if problem is not None:
                raise RpcError(REMOTE_FAILED, f"Packing stopped: {problem}. The lines stay PICKCONFIRMED; fix the carrier and pack again.", {"path": "$.result"})
            with mock.store.transaction() as db:
                ctx = Context(db, time.time(), mock.config, inbound_id=admin_row)
                packed = instore.merge_tracking(params["shipment"]["packages"], outcome.result)
                result = instore.ship_packed(ctx, request["id"], line_ids, packed)
                journal.answer(db, admin_row, json.dumps(result))
        except RpcError as error:
            with mock.store.transaction() as db:
                journal.fail_in(db, admin_row, error.code, error.message)
            raise
        self._wake(ctx)
        return result

    # -- customer service -------------------------------------------------------------------------
    def cancel_lines(self, order_id: str, lines: list[Any], reason: str = "CUSTOMERREQ") -> Doc:
        """Customer Service cancels lines that have not shipped; OMS refunds them (no return)."""
        args = {"order_id": str(order_id), "lines": [str(x) for x in lines], "reason": reason}
        return self._run("cancel_lines", args, lambda ctx: postsales.cancel_lines(ctx, order_id, lines, reason), order_id)

    # -- machinery --------------------------------------------------------------------------------
    def _context(self, db: sqlite3.Connection, action: str, args: Doc, order_id: str | None = None) -> tuple[Context, int]:
        """A context for the action, and the id of the inbound journal row that records it."""
        ctx = Context(db, time.time(), self._mock.config)
        body = json.dumps({"action": action, "args": args}, default=str)
        row_id = journal.record_in(db, f"admin/{action}", None, None, body, order_id=None if order_id is None else str(order_id), at=ctx.now)
        ctx.inbound_id = row_id
        return ctx, row_id

    def _run(self, action: str, args: Doc, work: Callable[[Context], _Result], order_id: str | None = None) -> _Result:
        with self._mock.store.transaction() as db:
            ctx, row_id = self._context(db, action, args, order_id)
            result = work(ctx)
            journal.answer(db, row_id, json.dumps(result, default=str))
        self._wake(ctx)
        return result

    def _wake(self, ctx: Context) -> None:
        if ctx.queued:
            self._mock.deliverer.wake()


def _result_problems(method: str, result: Any) -> list[str]:
    message = catalog.get(method)
    if message is None or message.result_schema is None:
        return []
    try:
        fastjsonschema.compile(message.result_schema)(result)
    except fastjsonschema.JsonSchemaValueException as error:
        where = error.name or "data"  # fastjsonschema names the failing part "data..."
        return [f"{where.replace('data', 'result', 1)} {error.message.replace(where, '').strip()}"]
    return []
