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

`@view(name)` registers a state view `(store, query) -> rows` (GET /state/<name>, `mom.state(name)`);
a flow module registers the views of the tables it owns, momlab.bus.views the general ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from momlab.bus.context import Context
from momlab.bus.jsonrpc import Doc
from momlab.bus.store import Store

Flow = Callable[[Context, Doc], Doc]
AfterHook = Callable[[Context, Doc, Doc], None]  # (ctx, params, the flow's result)
View = Callable[[Store, Mapping[str, str]], list[Doc]]  # (store, query parameters) -> rows

FLOWS: dict[str, Flow] = {}
AFTER: dict[str, list[AfterHook]] = {}
PREFIX_FLOWS: dict[str, Flow] = {}
VIEWS: dict[str, View] = {}

_Registered = TypeVar("_Registered")


def handles(method: str) -> Callable[[Flow], Flow]:
    return _filed_in(FLOWS, method)


def after(method: str) -> Callable[[AfterHook], AfterHook]:
    def register(fn: AfterHook) -> AfterHook:
        AFTER.setdefault(method, []).append(fn)
        return fn

    return register


def handles_prefix(prefix: str) -> Callable[[Flow], Flow]:
    return _filed_in(PREFIX_FLOWS, prefix)


def view(name: str) -> Callable[[View], View]:
    return _filed_in(VIEWS, name)


def _filed_in(table: dict[str, _Registered], key: str) -> Callable[[_Registered], _Registered]:
    def register(fn: _Registered) -> _Registered:
        table[key] = fn
        return fn

    return register


def prefix_flow_for(method: str) -> Flow | None:
    """The flow for a method the catalog does not know, by the longest matching prefix."""
    for prefix in sorted(PREFIX_FLOWS, key=len, reverse=True):
        if method.startswith(prefix) and len(method) > len(prefix):
            return PREFIX_FLOWS[prefix]
    return None


def flow_for(method: str) -> Flow | None:
    flow = FLOWS.get(method)
    hooks = AFTER.get(method)
    if flow is None and not hooks:
        return prefix_flow_for(method)
    if not hooks:
        return flow

    def with_hooks(ctx: Context, params: Doc) -> Doc:
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
