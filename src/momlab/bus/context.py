"""What a flow gets to work with: the open transaction, the clock, and a way to send messages."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from momlab.bus import journal, jsontext
from momlab.bus.config import Config
from momlab.bus.journal import Status
from momlab.bus.jsonrpc import Doc


@dataclass
class Context:
    db: sqlite3.Connection
    now: float
    config: Config
    inbound_id: int | None = None
    step: int = 0  # flows call next_step() between stages so deliveries arrive spaced by config.step_delay
    queued: int = field(default=0)
    # topic -> remotes, for this transaction; the key None marks the table as read
    _subscribers: dict[str | None, list[str]] = field(default_factory=dict, repr=False)

    def next_step(self) -> None:
        self.step += 1

    def subscribers(self, topic: str) -> list[str]:
        if not self._subscribers:  # the whole table at once: it is small, and a flow publishes several topics
            self._subscribers[None] = []
            for remote_topic, remote_id in self.db.execute("SELECT topic, remote_id FROM subscriptions ORDER BY remote_id"):
                self._subscribers.setdefault(remote_topic, []).append(remote_id)
        return self._subscribers.get(topic, [])

    def forget_subscribers(self) -> None:
        """Call after changing subscriptions inside the transaction."""
        self._subscribers.clear()

    def publish(self, method: str, params: Doc, order_id: str | None = None, to: str | None = None) -> int:
        """Queue `method` for every remote subscribed to it (or for the remote `to` only).

        With no subscriber the message is still journaled, as 'no_subscriber', so a learner can see
        that the bus had something to say and nobody was listening. Returns the rows queued.
        """
        remotes = [to] if to else self.subscribers(method)
        due = self.now + self.step * self.config.step_delay
        encoded = jsontext.dumps(params)  # once, however many subscribers
        if not remotes:
            self._queue(method, encoded, None, Status.NO_SUBSCRIBER, due, order_id)
            return 0
        for remote in remotes:
            self._queue(method, encoded, remote, Status.PENDING, due, order_id)
        self.queued += len(remotes)
        return len(remotes)

    def _queue(self, method: str, encoded_params: str, remote: str | None, status: Status, due: float, order_id: str | None) -> int:
        return journal.queue_out(self.db, self.now, method, encoded_params, remote, status, due, self.inbound_id, order_id)
