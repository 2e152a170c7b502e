"""`bin/magento oms:messages:process`: work through the Message Log's queue.

The connector stores messages in `mcom_api_messages` and processes them with this command; the
public stack trace shows the chain `Magento\\ServiceBus\\Message\\Processor` -> `SingleMessageProcessor`
-> the module's handler [doc: kb-getmode]. That cron runs it is likely but not documented [inferred].
An Admin setting chooses whether events from OMS are processed as they arrive or later, by this
command [doc: connector feature list] (momlab: `incoming_processing` = "sync" or "async").

One run:
1. incoming NEW messages, oldest first: each in its own transaction through its handler (with the
   plugins on it); SUCCESS, or ERROR with the reason and the full trace (nothing half-applied);
2. outgoing NEW messages, and outgoing ERROR ones whose failure was the bus being unreachable, if
   younger than 48 hours: messages OMS could not be given are retried for 48 hours [doc];
3. outgoing catalog-export messages: at most `batches` chunks of 5,000 (see catalog.py).
A run can be cut off (`interrupt_after=n` plays the process being killed after n sends): what was
done is committed message by message, and the next run carries on from there.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from momlab.connector import inventory, postsales, sales
from momlab.connector.errors import HandlerError
from momlab.connector.extensions import ExtensionError
from momlab.connector.messagelog import ERROR, INCOMING, OUTGOING, SUCCESS
from momlab.connector.transport import BusRefused, BusUnavailable

COMMIT_EVERY = 100  # catalog-export messages whose statuses are committed together
RETRY_WINDOW = 48 * 3600  # seconds during which an undelivered outgoing message is retried [doc]

# topic -> (plugin target, handler): what the connector does with each message OMS sends it
HANDLERS: dict[str, tuple[str, Callable]] = {
    "magento.inventory.aggregate_stock_management.updated": ("inventory.aggregate_stock_updated", inventory.on_aggregate_stock_updated),
    "magento.sales.order_management.updated": ("sales.order_updated", sales.on_order_updated),
    "magento.logistics.fulfillment_management.customer_shipment_done": ("sales.shipment_done", sales.on_shipment_done),
    "magento.postsales.return_management.updated": ("postsales.return_updated", postsales.on_return_updated),
    "magento.postsales.refund_management.updated": ("postsales.refund_updated", postsales.on_refund_updated),
}
# topic -> bus route for what the connector sends ([mock] paths; 1.4 of the reference)
ROUTES = {
    "magento.sales.order_management.create": "delegate/oms",
    "magento.catalog.product_management.updated": "events",
}


class ProcessInterrupted(Exception):
    """The run was cut off before it finished (interrupt_after): run the processor again to resume."""


@dataclass
class HandlerContext:
    db: Any
    now: float
    dispatch: Callable[..., None]


@dataclass
class Run:
    """What one run did."""

    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    sent: int = 0  # outgoing messages OMS accepted
    batches: list[int] = field(default_factory=list)
    interrupted: bool = False
    errors: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        text = f"processed {self.processed}: {self.succeeded} SUCCESS, {self.failed} ERROR"
        if self.batches:
            text += f"; catalog batches sent: {self.batches}"
        if self.interrupted:
            text += " (interrupted: run again to resume)"
        return f"<oms:messages:process {text}>"


class Processor:
    def __init__(self, connector):
        self.connector = connector
        self._lock = threading.RLock()  # one run at a time, like the cron job's lock

    # -- a run ------------------------------------------------------------------------------------
    def run(self, batches: int = 1, interrupt_after: int | None = None, progress: bool | None = None, ids: list[int] | None = None) -> Run:
        with self._lock:
            run = Run()
            self._send_problem = self.connector.cannot_send()  # checked once per run, not per message
            todo = self._queue(ids)
            for row in todo:
                self._interrupt(run, interrupt_after)
                self._one(row, run)
            if ids is None:
                self._export(run, batches, interrupt_after, progress)
            return run

    def process_one(self, message_id: int) -> None:
        """Process one incoming message now (the 'sync' setting), under the same lock."""
        with self._lock:
            self._send_problem = self.connector.cannot_send()
            rows = self.connector.store.query("SELECT * FROM mcom_api_messages WHERE id = ? AND status = 'NEW'", (message_id,))
            for row in rows:
                self._one(row, Run())

    def _queue(self, ids: list[int] | None) -> list:
        store, now = self.connector.store, self.connector.clock()
        if ids is not None:
            marks = ",".join("?" * len(ids))
            return store.query(f"SELECT * FROM mcom_api_messages WHERE id IN ({marks}) AND status = 'NEW' ORDER BY id", tuple(ids))
        incoming = store.query("SELECT * FROM mcom_api_messages WHERE direction = 'incoming' AND status = 'NEW' ORDER BY id")
        outgoing = store.query(
            "SELECT * FROM mcom_api_messages WHERE direction = 'outgoing' AND export_id IS NULL AND "
            "(status = 'NEW' OR (status = 'ERROR' AND auto_retry = 1 AND created_at > ?)) ORDER BY id",
            (now - RETRY_WINDOW,),
        )
        return list(incoming) + list(outgoing)

    def _interrupt(self, run: Run, interrupt_after: int | None) -> None:
        if interrupt_after is not None and run.processed >= interrupt_after:
            run.interrupted = True
            raise ProcessInterrupted(f"oms:messages:process was cut off after {run.processed} message(s); run it again to resume.")

    def _one(self, row, run: Run) -> None:
        run.processed += 1
        ok = self._incoming(row) if row["direction"] == INCOMING else self._outgoing(row)
        if ok:
            run.succeeded += 1
            run.sent += row["direction"] == OUTGOING
        else:
            run.failed += 1
            run.errors.append(f"{row['id']} {row['topic']}")

    # -- incoming ---------------------------------------------------------------------------------
    def _incoming(self, row) -> bool:
        connector = self.connector
        log = connector.log
        params = json.loads(row["body"])
        entry = HANDLERS.get(row["topic"])
        try:
            if entry is None:
                raise HandlerError(f"The connector has no handler for {row['topic']}.")
            target, handler = entry
            with connector.store.transaction() as db:
                ctx = HandlerContext(db, connector.clock(), connector.extensions.dispatch)
                result = connector.extensions.call(target, lambda p: handler(ctx, p), params)
                log.set_status(db, row["id"], SUCCESS, answer=result, note="processed")
                connector.extensions.dispatch("mcom_message_processed", message_id=row["id"], direction=INCOMING,
                                              topic=row["topic"], params=params, result=result)
            return True
        except Exception as exc:  # whatever went wrong, the message shows ERROR with the reason and the trace
            self._failed(row, params, exc)
            return False

    def _failed(self, row, params, exc: Exception, trace: str | None = None) -> None:
        connector = self.connector
        reason = str(exc) if isinstance(exc, (HandlerError, ExtensionError)) else f"{type(exc).__name__}: {exc}"
        with connector.store.transaction() as db:
            connector.log.set_status(db, row["id"], ERROR, error=reason, trace=trace or traceback.format_exc())
        try:
            connector.extensions.dispatch("mcom_message_failed", message_id=row["id"], direction=row["direction"],
                                          topic=row["topic"], params=params, error=reason)
        except ExtensionError:
            pass  # an observer of failures must not hide the failure itself

    # -- outgoing ---------------------------------------------------------------------------------
    def _outgoing(self, row) -> bool:
        connector = self.connector
        params = json.loads(row["body"])
        problem = self._send_problem
        if problem:
            with connector.store.transaction() as db:
                connector.log.set_status(db, row["id"], ERROR, error=problem, trace="not sent")
            return False
        try:
            answer = connector.transport.call(row["topic"], params, ROUTES.get(row["topic"], "api"))
        except BusUnavailable as exc:
            with connector.store.transaction() as db:
                db.execute("UPDATE mcom_api_messages SET retries = retries + 1 WHERE id = ? AND status = 'ERROR'", (row["id"],))
                connector.log.set_status(db, row["id"], ERROR, error=f"not delivered: {exc} (retried for 48 hours)",
                                         trace=traceback.format_exc(), auto_retry=True)
            return False
        except BusRefused as exc:
            self._failed(row, params, HandlerError(f"OMS refused it: {exc.message}" + (f" (at {exc.data['path']})" if exc.data.get("path") else "")),
                         trace=json.dumps({"code": exc.code, "message": exc.message, "data": exc.data}))
            return False
        with connector.store.transaction() as db:
            connector.log.set_status(db, row["id"], SUCCESS, answer=answer, note="accepted by OMS")
        connector.extensions.dispatch("mcom_message_processed", message_id=row["id"], direction=OUTGOING, topic=row["topic"],
                                      params=params, result=answer)
        return True

    # -- catalog export ---------------------------------------------------------------------------
    def _export(self, run: Run, batches: int, interrupt_after: int | None, progress: bool | None) -> None:
        store = self.connector.store
        for _ in range(max(batches, 0)):
            row = store.query("SELECT export_id, batch FROM mcom_api_messages WHERE export_id IS NOT NULL AND direction = 'outgoing' "
                              "AND status IN ('NEW', 'ERROR') ORDER BY export_id, batch LIMIT 1")
            if not row:
                return
            export_id, batch = row[0]["export_id"], row[0]["batch"]
            rows = store.query("SELECT * FROM mcom_api_messages WHERE export_id = ? AND batch = ? AND status IN ('NEW', 'ERROR') ORDER BY id",
                               (export_id, batch))
            bar = self.connector._progress(export_id, progress)
            failed_before, succeeded_before = run.failed, run.succeeded
            sent_before = bar.done if bar is not None else 0
            for start in range(0, len(rows), COMMIT_EVERY):
                # Statuses are committed every COMMIT_EVERY messages: a process killed in between
                # sends those few again on the next run (at least once; a product update can repeat).
                cut_off = False
                with store.transaction():
                    for row in rows[start : start + COMMIT_EVERY]:
                        if interrupt_after is not None and run.processed >= interrupt_after:
                            cut_off = True
                            break
                        self._one(row, run)
                        if bar is not None:
                            bar.update(sent_before + run.succeeded - succeeded_before, f"batch {batch}")
                if cut_off:
                    if bar is not None:
                        bar.finish(f"batch {batch} interrupted", failed=True)
                    self._interrupt(run, interrupt_after)
            run.batches.append(batch)
            if bar is not None:
                bar.finish(f"batch {batch} done", failed=run.failed > failed_before)
