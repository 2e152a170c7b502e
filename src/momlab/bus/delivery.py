"""Deliveries from the bus to remotes: one signed POST, and the thread that drains the outbox.

Outbound messages are journal rows (direction 'out'). The deliverer sends them in order per remote
(a remote sees its messages in the order OMS produced them), different remotes in parallel, so a
slow remote holds up only itself. A failure is retried with exponential back-off until
config.max_attempts, then marked 'failed'; `retry(id)` puts a failed delivery back in the queue,
as the Message Log's Retry does.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from momlab.bus import hosted as hosted_mode
from momlab.bus import signing
from momlab.bus.config import Config
from momlab.bus.store import Store


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


def post(session: requests.Session, url: str, secret: str | None, body: bytes, timeout: float, hosted: bool = False) -> Outcome:
    """POST one JSON-RPC request to a remote and judge its answer. With `hosted`, a url MOM's cloud
    could not reach fails at once, unopened; a tunnel url goes to its tunnel (momlab.bus.hosted)."""
    where = hosted_mode.route(url, hosted)
    if where.error:
        return Outcome(False, error=where.error)
    headers = {"Content-Type": "application/json"}
    if where.host:
        headers["Host"] = where.host
    if secret:
        headers[signing.HEADER] = signing.sign(secret, body)
    try:
        answer = session.post(where.url, data=body, headers=headers, timeout=timeout)
    except requests.Timeout:
        return Outcome(False, error=f"no answer within {timeout:g} s", timed_out=True)
    except requests.RequestException as exc:
        return Outcome(False, error=f"could not reach {url}: {_reason(exc)}")
    text = answer.text[:10_000]
    if not 200 <= answer.status_code < 300:
        said = _error_message(text)  # a JSON-RPC error (say, a handler's exception) tells more than the status
        return Outcome(False, error=f"HTTP {answer.status_code} from the remote" + (f": {said}" if said else ""), response=text)
    if not text.strip():
        return Outcome(True, result=None, response=text)  # an empty 2xx acknowledges a notification
    try:
        doc = answer.json()
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


# The first waiting delivery of each remote. The remotes with something owed are found by skipping
# through the outbox index one remote at a time, so the cost grows with the number of remotes, not
# with the backlog (comparing every waiting row with its remote's first took ~40 ms at 20,000 rows,
# and this runs after every delivery).
_FIRST_OWED = """
WITH RECURSIVE owed(remote) AS (
    SELECT MIN(remote) FROM journal WHERE direction = 'out' AND status IN ('pending', 'retrying')
    UNION ALL
    SELECT (SELECT MIN(remote) FROM journal WHERE direction = 'out' AND status IN ('pending', 'retrying') AND remote > owed.remote)
    FROM owed WHERE owed.remote IS NOT NULL
)
SELECT j.id, j.remote, j.due_at FROM owed JOIN journal j ON j.id = (
    SELECT MIN(k.id) FROM journal k WHERE k.direction = 'out' AND k.status IN ('pending', 'retrying') AND k.remote = owed.remote)
"""


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
        self._local = threading.local()
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
        rows = self.store.query("SELECT COUNT(*) FROM journal WHERE direction = 'out' AND status IN ('pending', 'retrying')")
        return rows[0][0] + len(self._busy)

    def _run(self) -> None:
        while not self._stop.is_set():
            next_due = self._dispatch_due()
            wait = 1.0 if next_due is None else max(0.0, min(1.0, next_due - time.time()))
            self._wake.wait(wait)
            self._wake.clear()

    def _dispatch_due(self) -> float | None:
        """Start the first waiting delivery of every idle remote whose turn has come; return when
        the earliest not-yet-due one will be."""
        rows = self.store.query(_FIRST_OWED)
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

    def _out_of_order(self, row):
        """The out-of-order fault (momlab.faults, off by default): when it hits this delivery, send the
        remote's next waiting delivery first. Returns (the row to send, the row held back or None)."""
        if row["id"] in self._passed or not fault_hits(self.config.fault_seed, "reorder", row["id"], self.config.reorder_rate):
            return row, None
        after = self.store.query(
            "SELECT id, remote, due_at FROM journal WHERE direction = 'out' AND remote = ? AND status IN ('pending', 'retrying') "
            "AND id > ? ORDER BY id LIMIT 1",
            (row["remote"], row["id"]),
        )
        return (after[0], row["id"]) if after else (row, None)

    def _deliver(self, journal_id: int, remote_id: str) -> None:
        try:
            self._attempt(journal_id, remote_id)
        finally:
            with self._lock:
                self._busy.discard(remote_id)
            self._wake.set()

    def _attempt(self, journal_id: int, remote_id: str) -> None:
        row = self.store.query("SELECT body, attempts, status, due_at FROM journal WHERE id = ?", (journal_id,))[0]
        if row["status"] not in ("pending", "retrying") or row["due_at"] > time.time():
            # The dispatcher read this row before an earlier attempt finished with it (it was delivered,
            # or put back to wait): sending it now would duplicate it or skip its back-off.
            return
        remote = self.store.query("SELECT url, secret FROM remotes WHERE id = ?", (remote_id,))
        attempts = row["attempts"] + 1
        if not remote:
            outcome = Outcome(False, error=f"remote {remote_id!r} is no longer registered", retryable=False)
        else:
            outcome = post(self._session(), remote[0]["url"], remote[0]["secret"], row["body"].encode(), self.config.delivery_timeout,
                           hosted=self.config.hosted)
            if outcome.ok and fault_hits(self.config.fault_seed, "duplicate", journal_id, self.config.duplicate_rate):
                # The duplicate fault (momlab.faults, off by default): the same delivery once more.
                post(self._session(), remote[0]["url"], remote[0]["secret"], row["body"].encode(), self.config.delivery_timeout,
                     hosted=self.config.hosted)
                attempts += 1
        with self.store.transaction() as db:
            if outcome.ok:
                db.execute(
                    "UPDATE journal SET status = 'delivered', attempts = ?, response = ?, error = NULL WHERE id = ?",
                    (attempts, _answer(outcome), journal_id),
                )
            elif outcome.retryable and attempts < self.config.max_attempts:
                due = time.time() + self.config.backoff * 2 ** (attempts - 1)
                db.execute(
                    "UPDATE journal SET status = 'retrying', attempts = ?, due_at = ?, error = ?, response = ? WHERE id = ?",
                    (attempts, due, outcome.error, outcome.response, journal_id),
                )
            else:
                db.execute(
                    "UPDATE journal SET status = 'failed', attempts = ?, error = ?, response = ? WHERE id = ?",
                    (attempts, outcome.error, outcome.response, journal_id),
                )

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # a learner's proxy settings must not capture loopback deliveries
        return session


def _answer(outcome: Outcome) -> str | None:
    return outcome.response if outcome.response is not None else json.dumps(outcome.result)
