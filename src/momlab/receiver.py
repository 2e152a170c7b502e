"""The learner's side of the bus: a remote that runs your handler functions.

    wms = Receiver(secret="s3cret")

    @wms.on("magento.logistics.warehouse_management.request_shipment")
    def ship(params):
        ...                     # what a warehouse does with a shipment request
        return {}               # the answer the bus gets back

    wms.start()                 # now listening on wms.url
    wms.register(mock.client, id="wms")

It checks each delivery's signature against the secret, answers MIB's OPTIONS probe, keeps a log
of what arrived (`wms.log`, `wms.log_frame()`), and turns a handler's exception into a JSON-RPC
error, so the bus marks the delivery failed and retries it.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from momlab.bus import jsonrpc, signing
from momlab.bus.server import Served

Handler = Callable[[dict], Any]


class Receiver(Served):
    not_running = "The receiver is not running: call .start() first."

    def __init__(self, handlers: dict[str, Handler] | None = None, secret: str | None = None, id: str = "learner", path: str = "/mom"):
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.secret = secret
        self.id = id
        self.path = path
        self.log: list[dict] = []
        self._seen: set[Any] = set()
        self._lock = threading.Lock()
        self.thread_name = f"momlab-receiver-{id}"

    def on(self, method: str) -> Callable[[Handler], Handler]:
        """Decorator: run the function for deliveries of `method`."""

        def add(fn: Handler) -> Handler:
            self.handlers[method] = fn
            return fn

        return add

    # -- on the bus -------------------------------------------------------------------------------
    def register(self, client, subscribes: list[str] | None = None, id: str | None = None) -> dict:
        """Register this receiver on the bus, subscribed to its handlers' methods by default."""
        params = {"id": id or self.id, "url": self.url, "subscribes": subscribes if subscribes is not None else sorted(self.handlers)}
        if self.secret:
            params["secret"] = self.secret
        return client.call("magento.service_bus.remote.register", params)

    def log_frame(self):
        import pandas as pd

        return pd.DataFrame(self.log, columns=["at", "method", "delivery_id", "signature", "duplicate", "outcome", "params", "answer"])

    # -- HTTP -----------------------------------------------------------------------------------
    def app(self) -> Starlette:
        return remote_app(self.path, self.handle)

    def handle(self, body: bytes, signature: str | None) -> Response:
        """One delivery: check the signature, find the handler, run it, answer, log it."""
        entry = {"at": time.strftime("%H:%M:%S"), "method": None, "delivery_id": None, "signature": "not checked", "duplicate": False, "outcome": None, "params": None, "answer": None}
        try:
            if self.secret is not None:
                if not signing.verify(self.secret, body, signature):
                    entry["signature"] = "missing" if not signature else "bad"
                    raise jsonrpc.RpcError(jsonrpc.UNAUTHORIZED, f"{signing.HEADER} is {entry['signature']}: this delivery was not signed with our secret, so it is refused.")
                entry["signature"] = "ok"
            envelope = jsonrpc.parse(body)
            entry.update(method=envelope.method, delivery_id=envelope.id, params=envelope.params)
            handler = self.handlers.get(envelope.method)
            if handler is None:
                raise jsonrpc.RpcError(jsonrpc.METHOD_NOT_FOUND, f"This receiver has no handler for {envelope.method}.", {"path": "$.method"}, envelope.id)
            with self._lock:
                entry["duplicate"] = envelope.id is not None and envelope.id in self._seen
                self._seen.add(envelope.id)
            result = handler(envelope.params)
            answer = {} if result is None else result
            entry.update(outcome="ok", answer=answer)
            json.dumps(answer, allow_nan=False)  # a handler must return JSON-able data (no NaN); fail here, with the handler's name in the log
            if envelope.is_notification:
                return Response(status_code=204)
            return JSONResponse(jsonrpc.success(envelope.id, answer))
        except jsonrpc.RpcError as error:
            entry.update(outcome="refused", answer=error.to_object())
            return JSONResponse(jsonrpc.failure(error.request_id, error), error.http_status)
        except Exception as exc:  # the learner's handler failed: report it, let the bus retry
            last = traceback.extract_tb(exc.__traceback__)[-1]
            message = f"handler raised {type(exc).__name__}: {exc} (line {last.lineno} of {last.name})"
            entry.update(outcome="handler error", answer=message)
            error = jsonrpc.RpcError(-32000, message)
            return JSONResponse(jsonrpc.failure(entry["delivery_id"], error), 500)
        finally:
            self.log.append(entry)


def remote_app(path: str, handle: Callable[[bytes, str | None], Response]) -> Starlette:
    """A remote's HTTP face: the bus's OPTIONS probe, and signed deliveries POSTed to `path`, passed
    to `handle(body, signature)` off the event loop."""

    async def probe(request: Request) -> Response:
        return Response(status_code=200, headers={"X-Magento-Service-Bus": "*", "Allow": "OPTIONS, POST"})

    async def deliver(request: Request) -> Response:
        body = await request.body()
        return await run_in_threadpool(handle, body, request.headers.get(signing.HEADER))

    return Starlette(routes=[Route(path, deliver, methods=["POST"]), Route(path, probe, methods=["OPTIONS"])])
