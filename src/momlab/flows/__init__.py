"""What OMS does with each message it receives.

A flow is a function `(ctx, params) -> result` registered for one method with `@handles(method)`.
It runs inside the transaction that journals the inbound message: it reads and changes state
through `ctx.db` and queues outbound messages with `ctx.publish`. Raising `RpcError` rolls all of
it back. Adding a flow means adding one function in one module; the bus finds it here.
"""

from __future__ import annotations

from typing import Callable

FLOWS: dict[str, Callable] = {}


def handles(method: str):
    def register(fn: Callable) -> Callable:
        FLOWS[method] = fn
        return fn

    return register


def flow_for(method: str) -> Callable | None:
    return FLOWS.get(method)


# Importing the modules registers their flows.
from . import fulfillment, orders, queries, remotes, stock  # noqa: E402,F401
