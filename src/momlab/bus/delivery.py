"""Sending to remotes: the one signed POST, a synchronous call, and the thread that drains the outbox.

Outbound messages are journal rows (direction 'out', momlab.bus.journal). The deliverer sends them in
order per remote (a remote sees its messages in the order OMS produced them), different remotes in
parallel, so a slow remote holds up only itself. A failure is retried with exponential back-off
(`retry_at`) until config.max_attempts, then marked 'failed'; `journal.retry(id)` puts a failed
delivery back in the queue, as the Message Log's Retry does. `call_now` is the synchronous call a
caller waits on: the bus's call to a remote, and `mom.admin.pack()`'s call to the carrier.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from momlab.bus import hosted as hosted_mode
from momlab.bus import httppost, journal, jsontext, signing
from momlab.bus.config import Config
from momlab.bus.journal import Status
from momlab.bus.jsonrpc import Doc
from momlab.bus.store import Store


def retry_at(config: Config, attempts: int) -> float | None:
    """When to try again after `attempts` failed attempts (exponential back-off), or None: give up."""
    if attempts >= config.max_attempts:
        return None
    return time.time() + config.backoff * 2.0 ** (attempts - 1)


def fault_hits(seed: int, kind: str, key: Any, rate: float) -> bool:
    """Does the fault `kind` (lab 05's duplicate and out-of-order deliveries, see momlab.faults) hit the
    item `key`? A pure function of its arguments, so a run can be repeated exactly: about `rate` of all
    keys are hit."""
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    digest = hashlib.sha256(f"{seed}:{kind}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


@dataclass
class Outcome:
    ok: bool
    result: Any = None
    error: str | None = None  # what went wrong, in words
    response: str | None = None  # the remote's answer as text, when it gave one
    retryable: bool = True
    timed_out: bool = False  # the remote did not answer within the timeout


def post(url: str, secret: str | None, body: bytes, timeout: float, hosted: bool = False, rpc: bool = True) -> Outcome:
    """POST one signed request to a remote and judge its answer: a JSON-RPC response, or with `rpc`
    False (a status-page webhook) any 2xx. With `hosted`, a url MOM's cloud could not reach fails at
    once, unopened; a tunnel url goes to its tunnel (momlab.bus.hosted). No proxy is ever used: a
    learner's proxy settings must not capture loopback deliveries."""
    where = hosted_mode.route(url, hosted)
    if where.error:
        return Outcome(False, error=where.error)
    headers = {"Content-Type": "application/json"}
    if where.host:
        headers["Host"] = where.host
    if secret:
        headers[signing.HEADER] = signing.sign(secret, body)
    try:
        answer = httppost.post(where.url, body, headers, timeout)
    except TimeoutError:
        return Outcome(False, error=f"no answer within {timeout:g} s", timed_out=True)
    except (OSError, ValueError) as exc:  # ValueError: not an http(s) url
        return Outcome(False, error=f"could not reach {url}: {_reason(exc)}")
    text = answer.text[:10_000]
    if not rpc:
        ok = 200 <= answer.status < 300
        return Outcome(ok, error=None if ok else f"HTTP {answer.status} from the subscriber: {text[:200]}", response=text)
    if not 200 <= answer.status < 300:
        said = _error_message(text)  # a JSON-RPC error (say, a handler's exception) tells more than the status
        return Outcome(False, error=f"HTTP {answer.status} from the remote" + (f": {said}" if said else ""), response=text)
    if not text.strip():
        return Outcome(True, result=None, response=text)  # an empty 2xx acknowledges a notification
    try:
        doc = json.loads(answer.body)
    except ValueError:
        return Outcome(False, error="the remote's answer is not JSON", response=text)
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        return Outcome(False, error=f"the remote answered with error {doc['error'].get('code')}: {doc['error'].get('message')}", response=text)
    if isinstance(doc, dict) and "result" in doc:
        return Outcome(True, result=doc["result"], response=text)
    return Outcome(False, error="the remote's answer is not a JSON-RPC response (no result or error member)", response=text)


def _error_message(text: str) -> str | None:
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f"error {error.get('code')}: {str(error['message'])[:300]}"
    return None


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused (is the remote running, and is the url right?)"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def call_now(store: Store, config: Config, remote_id: str, method: str, params: Doc, order_id: str | None = None,
             caused_by: int | None = None) -> tuple[int, Outcome]:
    """Send `method` to one remote while the caller waits, journaled as a delivery ('sending', then
    'delivered' or 'failed' after one attempt). Returns the delivery's journal id and the outcome."""
    with store.transaction() as db:
        remote = db.execute("SELECT url, secret FROM remotes WHERE id = ?", (remote_id,)).fetchone()
        row_id = journal.queue_out(db, time.time(), method, jsontext.dumps(params), remote_id, Status.PENDING, time.time(), caused_by, order_id)
        body = journal.mark_sending(db, row_id)
    if remote is None:
        outcome = Outcome(False, error=f"remote {remote_id!r} is no longer registered", retryable=False)
    else:
        outcome = post(remote["url"], remote["secret"], body.encode(), config.delivery_timeout, hosted=config.hosted)
    with store.transaction() as db:
        journal.settle(db, row_id, Status.DELIVERED if outcome.ok else Status.FAILED, 1, outcome.error, outcome.response)
    return row_id, outcome


class Deliverer:
    def __init__(self, store: Store, config: Config, workers: int = 4):
        self.store = store
        self.config = config
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy: set[str] = set()  # remotes with a delivery in flight
        self._passed: set[int] = set()  # deliveries the out-of-order fault already held back once
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="momlab-delivery")
        self._thread = threading.Thread(target=self._run, name="momlab-deliverer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def wake(self) -> None:
        self._wake.set()

    def pending(self) -> int:
        return journal.waiting(self.store) + len(self._busy)

    def _run(self) -> None:
        while not self._stop.is_set():
            next_due = self._dispatch_due()
            wait = 1.0 if next_due is None else max(0.0, min(1.0, next_due - time.time()))
            self._wake.wait(wait)
            self._wake.clear()

    def _dispatch_due(self) -> float | None:
        """Start the first waiting delivery of every idle remote whose turn has come; return when
        the earliest not-yet-due one will be."""
        rows = journal.owed(self.store)
        now, next_due = time.time(), None
        for row in rows:
            held = None
            if self.config.reorder_rate:
                row, held = self._out_of_order(row)
            if row["due_at"] > now:
                next_due = row["due_at"] if next_due is None else min(next_due, row["due_at"])
                continue
            with self._lock:
                if row["remote"] in self._busy:
                    continue
                self._busy.add(row["remote"])
            if held is not None:
                self._passed.add(held)
            self._pool.submit(self._deliver, row["id"], row["remote"])
        return next_due

    def _out_of_order(self, row: sqlite3.Row) -> tuple[sqlite3.Row, int | None]:
        """The out-of-order fault (momlab.faults, off by default): when it hits this delivery, send the
        remote's next waiting delivery first. Returns (the row to send, the row held back or None)."""
        if row["id"] in self._passed or not fault_hits(self.config.fault_seed, "reorder", row["id"], self.config.reorder_rate):
            return row, None
        after = journal.owed_after(self.store, row["remote"], row["id"])
        return (after, row["id"]) if after is not None else (row, None)

    def _deliver(self, journal_id: int, remote_id: str) -> None:
        try:
            self._attempt(journal_id, remote_id)
        finally:
            with self._lock:
                self._busy.discard(remote_id)
            self._wake.set()

    def _attempt(self, journal_id: int, remote_id: str) -> None:
        row = journal.delivery(self.store, journal_id)
        if row["status"] not in journal.WAITING or row["due_at"] > time.time():
            # The dispatcher read this row before an earlier attempt finished with it (it was delivered,
            # or put back to wait): sending it now would duplicate it or skip its back-off.
            return
        remote = self.store.query("SELECT url, secret FROM remotes WHERE id = ?", (remote_id,))
        attempts = row["attempts"] + 1
        if not remote:
            outcome = Outcome(False, error=f"remote {remote_id!r} is no longer registered", retryable=False)
        else:
            outcome = post(remote[0]["url"], remote[0]["secret"], row["body"].encode(), self.config.delivery_timeout,
                           hosted=self.config.hosted)
            if outcome.ok and fault_hits(self.config.fault_seed, "duplicate", journal_id, self.config.duplicate_rate):
                # The duplicate fault (momlab.faults, off by default): the same delivery once more.
                post(remote[0]["url"], remote[0]["secret"], row["body"].encode(), self.config.delivery_timeout,
                     hosted=self.config.hosted)
                attempts += 1
        due = retry_at(self.config, attempts) if not outcome.ok and outcome.retryable else None
        with self.store.transaction() as db:
            if outcome.ok:
                journal.settle(db, journal_id, Status.DELIVERED, attempts, None, _answer(outcome))
            elif due is not None:
                journal.settle(db, journal_id, Status.RETRYING, attempts, outcome.error, outcome.response, due)
            else:
                journal.settle(db, journal_id, Status.FAILED, attempts, outcome.error, outcome.response)


def _answer(outcome: Outcome) -> str | None:
    return outcome.response if outcome.response is not None else json.dumps(outcome.result)
