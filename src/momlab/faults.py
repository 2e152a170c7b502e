"""Faults on purpose, for practising troubleshooting (lab 05). Every fault is opt-in and reproducible.

Each fault sits where it would happen in real life:

- The remote's faults: a `FaultyReceiver` is a `Receiver` that can be down (connection refused),
  slow (answers after `latency` seconds) or broken (its code fails, so it answers HTTP 500). Slow and
  broken hit a seeded share (`rate`) of the deliveries: the same seed gives the same faults.
- The bus's faults: `Config.duplicate_rate` makes the deliverer send a delivery twice (same JSON-RPC
  id, same signature), `Config.reorder_rate` makes it send a remote's next delivery before this
  one. Which deliveries are hit depends only on `Config.fault_seed` and the journal row's id.
  `bus_faults(mock, ...)` switches them on (or off) on a running mock.
- A message that fails its schema needs no help: the bus refuses it (-32602) and journals it.

`simulate(fault, seed)` runs a small integration (a warehouse and a Commerce connector) with one
fault on a mock of its own, and hands back the evidence: the journal and each remote's log.

    wms = FaultyReceiver(secret="s3cret", id="wms", fault="error", rate=0.5, seed=7)
    run = simulate("remote_slow", seed=3)
    run.journal, run.logs["wms"]
"""

from __future__ import annotations

import functools
import json
import random
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from momlab.bus.config import Config
from momlab.bus.journal import attempts_by_remote, owed
from momlab.bus.jsonrpc import Doc
from momlab.receiver import Handler, Receiver
from momlab.topics import LINES_SHIPPED, ORDER_CREATE, REGISTER, REQUEST_SHIPMENT, SHIPMENT_DONE, UPDATED

if TYPE_CHECKING:
    from momlab.mock import Mock

RECEIVER_FAULTS = (None, "down", "slow", "error")

# What simulate() can inject, and the evidence each one leaves (lab 05 teaches reading it).
SIMULATED = (
    None,  # a clean run
    "remote_down",  # the warehouse is not running: deliveries fail with "connection refused"
    "remote_slow",  # the warehouse answers after the bus stopped waiting: timeouts, then redeliveries
    "remote_error",  # the warehouse's code fails on some deliveries: HTTP 500
    "bad_signature",  # the bus signs with a secret the warehouse no longer uses: HTTP 401
    "invalid_message",  # the warehouse sends a lines_shipped that fails its schema: -32602
    "duplicate_delivery",  # the bus delivers messages twice
    "out_of_order",  # the bus delivers a remote's messages in the wrong order
)



class RemoteFault(RuntimeError):
    """What a FaultyReceiver's code raises when the 'error' fault hits a delivery."""


class FaultyReceiver(Receiver):
    """A Receiver with a fault: None (healthy), 'down', 'slow' or 'error'.

    - 'down': nothing listens on its url (it keeps the url, so registering it still works);
      setting `fault` back to None brings it up again on the same url.
    - 'slow': a hit delivery is answered after `latency` seconds (the handler still runs).
    - 'error': a hit delivery makes the remote's code fail: HTTP 500 with a JSON-RPC error.
    `rate` is the share of deliveries hit, drawn from `random.Random(seed)` in arrival order.
    """

    def __init__(self, handlers: dict[str, Handler] | None = None, secret: str | None = None, id: str = "learner",
                 path: str = "/mom", fault: str | None = None, rate: float = 1.0, seed: int = 0, latency: float = 2.0,
                 error_message: str = "the warehouse database did not answer"):
        super().__init__(handlers, secret, id, path)
        if not 0 <= rate <= 1:
            raise ValueError(f"rate is a share of deliveries, from 0 to 1; got {rate!r}.")
        self.handlers = _FaultyHandlers(self, self.handlers)
        self.rate = rate
        self.latency = latency
        self.error_message = error_message
        self._draw_lock = threading.Lock()
        self.seed = seed
        self._current = threading.local()
        self._address: tuple[str, int] | None = None
        self._fault: str | None = None
        self.fault = fault

    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        """Setting the seed starts its draws again: the same seed hits the same deliveries."""
        with self._draw_lock:
            self._seed = value
            self._draws = random.Random(value)

    @property
    def fault(self) -> str | None:
        return self._fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        if value not in RECEIVER_FAULTS:
            raise ValueError(f"fault must be one of {', '.join(map(repr, RECEIVER_FAULTS))}; got {value!r}.")
        was, self._fault = self._fault, value
        if value == "down" and self._server is not None:
            super().stop()
        elif was == "down" and value != "down" and self._address is not None:
            self.start(*self._address)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> FaultyReceiver:
        if self._address is not None and port == 0:
            host, port = self._address  # keep the url it was registered with
        super().start(host, port)
        if self._server is None:
            raise RuntimeError(self.not_running)
        self._address = (self._server.host, self._server.port)
        if self._fault == "down":
            super().stop()
        return self

    def stop(self) -> None:
        super().stop()

    @property
    def url(self) -> str:
        if self._server is None and self._address is not None:
            host, port = self._address
            return f"http://{host}:{port}{self.path}"
        return super().url

    def handle(self, body: bytes, signature: str | None) -> Response:
        hit = None
        if self._fault in ("slow", "error"):
            with self._draw_lock:
                if self._draws.random() < self.rate:
                    hit = self._fault
        self._current.fault = hit
        try:
            return super().handle(body, signature)
        finally:
            self._current.fault = None

    def _run(self, handler: Handler, params: Doc) -> Any:
        hit = getattr(self._current, "fault", None)
        if hit == "slow":
            time.sleep(self.latency)
        elif hit == "error":
            raise RemoteFault(self.error_message)
        return handler(params)


class _FaultyHandlers(dict[str, Handler]):
    """The receiver's handlers, each run through FaultyReceiver._run (where the fault strikes)."""

    def __init__(self, receiver: FaultyReceiver, handlers: dict[str, Handler]):
        super().__init__(handlers)
        self._receiver = receiver

    def get(self, method: str, default: Handler | None = None) -> Handler | None:  # type: ignore[override]  # one signature for dict.get's overloads
        handler = super().get(method, default)
        if handler is None:
            return None
        return functools.partial(self._receiver._run, handler)


def bus_faults(mock: Mock, duplicate_rate: float = 0.0, reorder_rate: float = 0.0, seed: int = 0) -> Config:
    """Switch the bus's own faults on a running mock (all zero: off). Returns the new Config."""
    for name, rate in (("duplicate_rate", duplicate_rate), ("reorder_rate", reorder_rate)):
        if not (isinstance(rate, (int, float)) and 0 <= rate <= 1):
            raise ValueError(f"{name} is a share of deliveries, from 0 to 1; got {rate!r}.")
    config = replace(mock.deliverer.config, duplicate_rate=float(duplicate_rate), reorder_rate=float(reorder_rate), fault_seed=int(seed))
    mock.deliverer.config = config
    mock.config = config
    return config


# -- a small integration run with one fault ------------------------------------------------------


@dataclass
class Run:
    """What a simulated run leaves behind: the evidence a troubleshooter reads."""

    seed: int
    journal: Any  # the bus's journal (DataFrame, like mock.journal())
    logs: dict[str, Any]  # remote id -> that remote's own log (DataFrame, like Receiver.log_frame())
    orders: list[str] = field(default_factory=list)  # the order ids sent

    def __repr__(self) -> str:
        return f"<momlab run seed={self.seed}: {len(self.journal)} journal rows, {len(self.orders)} orders>"


SKUS = ("TEE-ORG-S", "TEE-ORG-L", "JEAN-IND-32", "BAG-TOTE", "MUG-ENAMEL", "CANDLE-CEDAR", "BLANKET-WOOL", "TOWEL-LINEN", "PEN-BRASS")


def simulate(fault: str | None = None, seed: int = 0, orders: int = 3) -> Run:
    """Run a warehouse ('wms') and a Commerce connector ('connector') against a mock of their own
    with one fault from SIMULATED, and return the evidence. Reproducible: same fault and seed, same run.

    The orders come in; the warehouse ships what it received; failed deliveries are left as the
    bus left them (their next retry is a minute away), so the run shows the fault, not its cure.
    """
    if fault not in SIMULATED:
        raise ValueError(f"fault must be one of {', '.join(map(repr, SIMULATED))}; got {fault!r}.")
    from momlab import orders as order_builder
    from momlab.mock import Mock

    rng = random.Random(f"momlab-run:{seed}")
    config = Config(step_delay=0.0, backoff=60.0, max_attempts=3, delivery_timeout=1.0)
    if fault == "duplicate_delivery":
        config = replace(config, duplicate_rate=1.0, fault_seed=seed)
    if fault == "out_of_order":
        config = replace(config, reorder_rate=1.0, fault_seed=seed)
    kind = {"remote_down": "down", "remote_slow": "slow", "remote_error": "error"}.get(fault) if fault else None
    rate = 0.5 if kind in ("slow", "error") else 1.0
    receiver_seed = _first_hit(seed, rate)  # the first delivery is always hit, so every run shows its fault

    folder = Path(tempfile.mkdtemp(prefix="momlab-run-"))
    mock = Mock(folder / "mom.sqlite", config).start()
    wms = FaultyReceiver(secret=f"wms-{seed}", id="wms", fault=None, rate=rate, seed=receiver_seed, latency=1.3)
    connector = Receiver(secret=f"connector-{seed}", id="connector")
    wms.on(REQUEST_SHIPMENT)(lambda params: {})
    connector.on(UPDATED)(lambda params: {})
    connector.on(SHIPMENT_DONE)(lambda params: {})
    sent: list[str] = []
    try:
        wms.start()
        connector.start()
        stale = f"wms-{seed}-before-rotation" if fault == "bad_signature" else None
        mock.client.call(REGISTER, {"id": "wms", "url": wms.url, "subscribes": [REQUEST_SHIPMENT], "secret": stale or wms.secret})
        connector.register(mock.client)
        if kind is not None:
            wms.fault = kind
        for _ in range(orders):
            order_id = f"{rng.randint(100000000, 999999999)}"
            skus = rng.sample(SKUS, rng.randint(1, 2))
            mock.client.call(ORDER_CREATE, order_builder.order_params(order_id, skus, store=rng.choice(["WEB-US", "WEB-EU"])), route="delegate")
            sent.append(order_id)
        _settle(mock, [wms, connector])
        received = _received_requests(wms)
        broken = rng.randrange(len(received)) if fault == "invalid_message" and received else None
        for n, request in enumerate(received):
            params = _lines_shipped(request, rng)
            if n == broken:
                params = _spoil(params, rng)
            try:
                mock.client.call(LINES_SHIPPED, params, route="delegate")
            except Exception:  # a refused message stays in the journal: that is the evidence
                pass
        _settle(mock, [wms, connector])
        journal = mock.journal()
        logs = {"wms": wms.log_frame(), "connector": connector.log_frame()}
    finally:
        threading.Thread(target=_shut, args=(mock, [wms, connector], folder), daemon=True).start()
    return Run(seed=seed, journal=journal, logs=logs, orders=sent)


def _first_hit(seed: int, rate: float) -> int:
    """The first seed from `seed` on whose first draw is a hit."""
    candidate = seed
    while random.Random(candidate).random() >= rate:
        candidate += 1
    return candidate


def _settle(mock: Mock, receivers: list[Receiver], timeout: float = 10.0) -> None:
    """Wait until every delivery due now has been tried and every running remote has finished
    what it was sent (a slow remote goes on working after the bus stopped waiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Deliveries go out in order per remote: a remote whose first waiting delivery is not due
        # yet (a retry a minute away) holds the rest of its queue back. Nothing else may be due.
        now = time.time()
        waiting = any(first["due_at"] <= now for first in owed(mock.store))
        posts = attempts_by_remote(mock.store)
        behind = any(_listening(r) and len(r.log) < (posts.get(r.id) or 0) for r in receivers)
        if not waiting and not behind and not mock.deliverer._busy:
            return
        time.sleep(0.02)


def _listening(receiver: Receiver) -> bool:
    return receiver._server is not None and receiver._server.running


def _received_requests(wms: Receiver) -> list[Doc]:
    """The shipment requests the warehouse accepted, once each (a duplicate is not shipped twice)."""
    seen: set[str] = set()
    requests: list[Doc] = []
    for entry in list(wms.log):
        if entry["method"] == REQUEST_SHIPMENT and entry["outcome"] == "ok" and entry["delivery_id"] not in seen:
            seen.add(entry["delivery_id"])
            requests.append(entry["params"])
    return requests


def _lines_shipped(request: Doc, rng: random.Random) -> Doc:
    tracking = f"1Z{rng.randint(10**9, 10**10 - 1)}"
    return {
        "request_id": request["request_id"],
        "packages": [{
            "id": f"PKG-{request['request_id']}",
            "items": [item["order_line_number"] for item in request["items"]],
            "aggregated_items": request["aggregated_items"],
            "carrier": "UPS",
            "tracking_number": tracking,
            "tracking_link": f"https://www.ups.com/track?tracknum={tracking}",
        }],
        "items": [{"order_line_id": item["order_line_id"], "order_line_number": item["order_line_number"], "sku": item["sku"],
                   "status": "SHIPPED", "status_reason": "OSREPORT"} for item in request["items"]],
    }


def _spoil(params: Doc, rng: random.Random) -> Doc:
    """One of the mistakes a warehouse integration makes, chosen by the seed; each fails the schema."""
    spoiled: Doc = json.loads(json.dumps(params))
    mistake = rng.randrange(3)
    if mistake == 0:
        spoiled["request_id"] = int(spoiled["request_id"].replace("-", ""))  # a number where text is expected
    elif mistake == 1:
        spoiled.pop("request_id")  # the shipment request is not named
    else:
        spoiled["packages"] = spoiled["packages"][0]  # one package instead of a list of packages
    return spoiled


def _shut(mock: Mock, receivers: list[Receiver], folder: Path) -> None:
    for receiver in receivers:
        receiver.stop()
    mock.stop()
    shutil.rmtree(folder, ignore_errors=True)
