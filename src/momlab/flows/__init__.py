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


def _register_all() -> None:
    """Import every module of this package: importing a module registers its flows, so a new flow
    module needs no edit here."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_register_all()
