"""Extension points of the connector model: plugins on its message-bus code, observers of its events.

A Magento Commerce merchant customises the connector with an ordinary Magento module: *plugins*
(interceptors declared in di.xml) wrap the methods of the message-bus handlers and builders, and
*observers* (events.xml) react to events; custom order and product attributes travel in the
messages' `custom_attributes` (mom-reference.md 5.9, [doc]: connector feature grid). The one handler
class public sources name is `Magento\\InventoryMessageBus\\Handler\\OnAggregateStockUpdatedSubscriber`
[doc: kb-getmode].

momlab gives the same two mechanisms, in Python, without editing momlab. The targets and event names
below are momlab's own [mock]; the real connector's are PHP classes and Magento events.

    ext = connector.extensions

    @ext.after("sales.order_create")                 # after-plugin: gets the result, returns it (changed)
    def add_channel_note(params, order):
        params["order"].setdefault("custom_attributes", []).append({"name": "note", "value": "gift"})
        return params

    @ext.observe("mcom_shipment_created")            # observer: gets an Event, returns nothing
    def tell_customer(event):
        print("shipped:", event.order_id)

Plugin kinds, as in Magento: `before(*args)` returns None (arguments unchanged), a tuple of new
arguments, or one new value for a one-argument target; `after(result, *args)` returns the result to
use (None keeps it); `around(proceed, *args)` calls `proceed(*args)` (or not) and returns the result.
Several plugins on one target run by `sort_order`, then in the order they were added. An exception in
an extension fails the message it ran for: the Message Log shows it, with the function's name.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TARGETS = {
    "sales.order_create": "builds the params of magento.sales.order_management.create from a store order. Args: (order). Result: params",
    "catalog.product_updated": "builds the params of magento.catalog.product_management.updated from a product. Args: (product). Result: params",
    "inventory.aggregate_stock_updated": "handles magento.inventory.aggregate_stock_management.updated (the role of OnAggregateStockUpdatedSubscriber). "
                                         "Args: (params). Result: a summary dict",
    "sales.order_updated": "handles magento.sales.order_management.updated. Args: (params). Result: a summary dict",
    "sales.shipment_done": "handles magento.logistics.fulfillment_management.customer_shipment_done. Args: (params). Result: a summary dict",
    "postsales.return_updated": "handles magento.postsales.return_management.updated. Args: (params). Result: a summary dict",
    "postsales.refund_updated": "handles magento.postsales.refund_management.updated. Args: (params). Result: a summary dict",
}
EVENTS = {
    "mcom_message_received": "an incoming message was stored in the Message Log. Data: message_id, topic, params",
    "mcom_message_processed": "a message was handled (incoming) or accepted by OMS (outgoing). Data: message_id, direction, topic, params, result",
    "mcom_message_failed": "a message failed. Data: message_id, direction, topic, params, error",
    "mcom_order_placed": "an order was placed on the store, before it is queued for OMS. Data: order",
    "mcom_stock_updated": "a website's salable stock changed. Data: website_code, aggregate_id, stock (list of {sku, quantity})",
    "mcom_shipment_created": "a shipment was created from customer_shipment_done. Data: order_id, shipment_id, mom_shipment_id, items, tracks",
    "mcom_invoice_created": "an invoice was created. Data: order_id, invoice_id, items, grand_total",
    "mcom_creditmemo_created": "a credit memo was created from refund_management.updated. Data: order_id, creditmemo_id, grand_total",
}
KINDS = ("before", "after", "around")


class ExtensionError(Exception):
    """An extension raised: the message names the plugin or observer and what it raised."""


@dataclass
class Plugin:
    target: str
    kind: str
    fn: Callable
    module: str
    sort_order: int = 0


@dataclass
class Observer:
    event: str
    fn: Callable
    module: str


class Event:
    """What an observer receives: `event.name`, and each data item as an attribute (`event.order_id`)."""

    def __init__(self, name: str, data: dict):
        self.name = name
        self.data = data

    def __getattr__(self, item: str) -> Any:
        try:
            return self.__dict__["data"][item]
        except KeyError:
            raise AttributeError(f"event {self.__dict__.get('name')!r} has no {item!r}; it carries {sorted(self.__dict__['data'])}") from None

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {sorted(self.data)})"


@dataclass
class Extensions:
    plugins: list[Plugin] = field(default_factory=list)
    observers: list[Observer] = field(default_factory=list)

    # -- declaring --------------------------------------------------------------------------------
    def plugin(self, target: str, kind: str, fn: Callable | None = None, module: str = "app", sort_order: int = 0):
        """Add `fn` as a `kind` plugin on `target` (usable as a decorator when fn is left out)."""
        _known(target, TARGETS, "plugin target")
        if kind not in KINDS:
            raise ValueError(f"A plugin is 'before', 'after' or 'around', not {kind!r}.")

        def add(function: Callable) -> Callable:
            if not callable(function):
                raise TypeError(f"a plugin must be a function, not {type(function).__name__}.")
            self.plugins.append(Plugin(target, kind, function, module, sort_order))
            return function

        return add if fn is None else add(fn)

    def before(self, target: str, fn: Callable | None = None, *, module: str = "app", sort_order: int = 0):
        """A before-plugin: `@ext.before(target)` above a function, or `ext.before(target, fn)`."""
        return self.plugin(target, "before", fn, module=module, sort_order=sort_order)

    def after(self, target: str, fn: Callable | None = None, *, module: str = "app", sort_order: int = 0):
        """An after-plugin: `@ext.after(target)` above a function, or `ext.after(target, fn)`."""
        return self.plugin(target, "after", fn, module=module, sort_order=sort_order)

    def around(self, target: str, fn: Callable | None = None, *, module: str = "app", sort_order: int = 0):
        """An around-plugin: `@ext.around(target)` above a function, or `ext.around(target, fn)`."""
        return self.plugin(target, "around", fn, module=module, sort_order=sort_order)

    def observe(self, event: str, fn: Callable | None = None, *, module: str = "app"):
        """Run `fn(event)` whenever the connector dispatches `event` (a decorator when fn is left out)."""
        _known(event, EVENTS, "event")

        def add(function: Callable) -> Callable:
            if not callable(function):
                raise TypeError(f"an observer must be a function, not {type(function).__name__}.")
            self.observers.append(Observer(event, function, module))
            return function

        return add if fn is None else add(fn)

    def install(self, module) -> None:
        """Install a module object: its `name`, and `plugins` [(target, kind, fn)] and `observers`
        [(event, fn)] lists, the way a Magento module declares them in di.xml and events.xml."""
        name = getattr(module, "name", None) or type(module).__name__
        for entry in getattr(module, "plugins", []):
            target, kind, fn, *rest = entry
            self.plugin(target, kind, fn, module=name, sort_order=rest[0] if rest else 0)
        for event, fn in getattr(module, "observers", []):
            self.observe(event, fn, module=name)

    def remove(self, module: str | None = None, fn: Callable | None = None) -> int:
        """Remove every extension of a module, or one function; all of them when both are None."""
        def keep(entry) -> bool:
            if module is None and fn is None:
                return False
            return not ((module is None or entry.module == module) and (fn is None or entry.fn is fn))

        before = len(self.plugins) + len(self.observers)
        self.plugins = [p for p in self.plugins if keep(p)]
        self.observers = [o for o in self.observers if keep(o)]
        return before - len(self.plugins) - len(self.observers)

    def frame(self):
        import pandas as pd

        rows = [{"module": p.module, "type": f"{p.kind} plugin", "on": p.target, "function": _name(p.fn), "sort_order": p.sort_order} for p in self.plugins]
        rows += [{"module": o.module, "type": "observer", "on": o.event, "function": _name(o.fn), "sort_order": None} for o in self.observers]
        return pd.DataFrame(rows, columns=["module", "type", "on", "function", "sort_order"])

    # -- running ----------------------------------------------------------------------------------
    def call(self, target: str, fn: Callable, *args):
        """Run `fn(*args)` with every plugin on `target` around it."""
        chain = sorted((p for p in self.plugins if p.target == target), key=lambda p: p.sort_order)
        return self._run(target, chain, fn, args)

    def _run(self, target: str, chain: list[Plugin], fn: Callable, args: tuple):
        if not chain:
            return fn(*args)
        plugin, rest = chain[0], chain[1:]
        label = f"{plugin.kind} plugin {_name(plugin.fn)} on {target}"
        if plugin.kind == "before":
            changed = _guard(label, plugin.fn, *args)
            if isinstance(changed, tuple):
                args = changed
            elif changed is not None:
                args = (changed, *args[1:])
            return self._run(target, rest, fn, args)
        if plugin.kind == "after":
            result = self._run(target, rest, fn, args)
            changed = _guard(label, plugin.fn, result, *args)
            return result if changed is None else changed
        return _guard(label, plugin.fn, lambda *new_args: self._run(target, rest, fn, new_args or args), *args)

    def dispatch(self, event: str, **data) -> None:
        for observer in [o for o in self.observers if o.event == event]:
            _guard(f"observer {_name(observer.fn)} of {event}", observer.fn, Event(event, data))


def _guard(label: str, fn: Callable, *args):
    try:
        return fn(*args)
    except ExtensionError:
        raise
    except Exception as exc:
        raise ExtensionError(f"{label} raised {type(exc).__name__}: {exc}") from exc


def _known(name: str, known: dict, what: str) -> None:
    if name not in known:
        close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"No {what} {name!r}.{hint} Known: {', '.join(known)}.")


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
