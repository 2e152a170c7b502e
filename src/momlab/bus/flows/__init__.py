"""What OMS does with each message it receives.

A flow is a function `(ctx, params) -> result` registered for one method with `@handles(method)`.
It runs inside the transaction that journals the inbound message: it reads and changes state
through `ctx.db` and queues outbound messages with `ctx.publish`. Raising `RpcError` rolls all of
it back. Adding a flow means adding one function in one module; the bus finds it here.

Two more ways to take part, each in a module of its own:
- `@after(method)`: a function `(ctx, params, result) -> None` that runs right after the flow of
  `method`, in the same transaction (e.g. OMS sends payment commands once an order is created);
- `@handles_prefix(prefix)`: the flow for every method that starts with `prefix` and that the catalog
  does not know (e.g. payment notifications, whose names are not public).
"""

from __future__ import annotations

from collections.abc import Callable

FLOWS: dict[str, Callable] = {}
AFTER: dict[str, list[Callable]] = {}
PREFIX_FLOWS: dict[str, Callable] = {}


def handles(method: str):
    def register(fn: Callable) -> Callable:
        FLOWS[method] = fn
        return fn

    return register


def after(method: str):
    def register(fn: Callable) -> Callable:
        AFTER.setdefault(method, []).append(fn)
        return fn

    return register


def handles_prefix(prefix: str):
    def register(fn: Callable) -> Callable:
        PREFIX_FLOWS[prefix] = fn
        return fn

    return register


def prefix_flow_for(method: str) -> Callable | None:
    """The flow for a method the catalog does not know, by the longest matching prefix."""
    for prefix in sorted(PREFIX_FLOWS, key=len, reverse=True):
        if method.startswith(prefix) and len(method) > len(prefix):
            return PREFIX_FLOWS[prefix]
    return None


def flow_for(method: str) -> Callable | None:
    flow = FLOWS.get(method)
    hooks = AFTER.get(method)
    if flow is None and not hooks:
        return prefix_flow_for(method)
    if not hooks:
        return flow

    def with_hooks(ctx, params):
        result = flow(ctx, params) if flow else {}
        for hook in hooks:
            hook(ctx, params, result)
        return result

    return with_hooks


def _register_all() -> None:
    """Import every module of this package: importing a module registers its flows, so a new flow
    module needs no edit here."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_register_all()
