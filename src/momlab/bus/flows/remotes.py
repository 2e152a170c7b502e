"""magento.service_bus.remote.register / unregister: who the bus delivers to (mom-reference.md 2)."""

from __future__ import annotations

from urllib.parse import urlsplit

from momlab.bus import catalog, hosted, journal
from momlab.bus.context import Context
from momlab.bus.flows import handles
from momlab.bus.jsonrpc import INVALID_PARAMS, UNKNOWN_ENTITY, Doc, RpcError


@handles("magento.service_bus.remote.register")
def register(ctx: Context, params: Doc) -> Doc:
    remote_id = params["id"]
    url = params["url"]
    _check_url(url)
    subscribes = list(dict.fromkeys(params.get("subscribes") or []))  # keep order, drop repeats
    warnings = []
    for topic in subscribes:
        message = catalog.get(topic)
        if message is None:
            close = catalog.suggest(topic)
            hint = f" Did you mean {close[0]}?" if close else ""
            warnings.append(f"{topic} is not a message the bus knows, so nothing will be delivered for it.{hint}")
        elif message.direction == "to_mom":
            warnings.append(f"{topic} is sent to MOM, not by it: subscribing to it delivers nothing.")
    warnings += hosted.register_warnings(url, ctx.config.hosted)  # a url MOM's cloud cannot reach, a closed tunnel
    if not params.get("secret"):
        warnings.append("No secret: deliveries to this remote will not be signed, so it cannot tell them from forgeries.")
    replaced = ctx.db.execute("SELECT 1 FROM remotes WHERE id = ?", (remote_id,)).fetchone() is not None
    ctx.db.execute("DELETE FROM subscriptions WHERE remote_id = ?", (remote_id,))
    ctx.db.execute(
        "INSERT OR REPLACE INTO remotes (id, url, secret, registered_at) VALUES (?, ?, ?, ?)",
        (remote_id, url, params.get("secret"), ctx.now),
    )
    ctx.db.executemany("INSERT INTO subscriptions VALUES (?, ?)", [(remote_id, t) for t in subscribes])
    ctx.forget_subscribers()
    return {"id": remote_id, "url": url, "subscribes": subscribes, "replaced": replaced, "warnings": warnings}


@handles("magento.service_bus.remote.unregister")
def unregister(ctx: Context, params: Doc) -> Doc:
    remote_id = params["id"]
    if ctx.db.execute("DELETE FROM remotes WHERE id = ?", (remote_id,)).rowcount == 0:
        known = [row[0] for row in ctx.db.execute("SELECT id FROM remotes ORDER BY id")]
        raise RpcError(
            UNKNOWN_ENTITY,
            f"No remote is registered with id {remote_id!r}. Registered: {', '.join(known) or 'none'}.",
            {"path": "$.params.id"},
        )
    ctx.db.execute("DELETE FROM subscriptions WHERE remote_id = ?", (remote_id,))
    ctx.forget_subscribers()
    # Deliveries still waiting for it can never arrive now.
    journal.cancel_for(ctx.db, remote_id, "remote unregistered")
    return {"id": remote_id, "unregistered": True}


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0  # .port raises ValueError when out of range
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        parts, port_ok = None, False
    if parts is None or not port_ok or parts.scheme not in ("http", "https") or not parts.hostname:
        raise RpcError(
            INVALID_PARAMS,
            f"url {url!r} is not an http(s) URL the bus can POST to, e.g. http://127.0.0.1:8001/mom.",
            {"path": "$.params.url"},
        )
