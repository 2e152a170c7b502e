"""The bus side of the status page and incident feed (lab 05, objective 5.3). The mock's own design;
the learner's calls are in momlab.status.

Magento's real status page was status.magento.com and is now status.adobe.com: you sign in with an
Adobe ID, create a subscription for Order Management (MOM), choose regions and event types, and
notices arrive by e-mail (mom-reference.md 7.7). No public source describes a webhook or a JSON feed
for it. This module is a stand-in so a lab can practise the same habit with code: read the page,
subscribe, and react when an incident opens or is resolved. Components, regions, statuses and the
webhook's shape are this mock's choices, not Adobe's.

The routes that serve it are listed in momlab.bus.statuspage_http.

Each webhook is a POST of JSON `{"id", "event", "sent_at", "incident"}` signed like the bus's
deliveries (`X-Signature: sha1=<HMAC-SHA1 of the body>` with the subscription's secret). A new
subscription first gets a `subscription.confirmed` event, as an e-mail subscription gets its
confirmation. A failed webhook is retried with back-off, as deliveries are.
"""

from __future__ import annotations

import html
import json
import sqlite3
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from momlab.bus import delivery, jsonrpc
from momlab.bus.dispatch import Bus
from momlab.bus.journal import WAITING, Status
from momlab.bus.jsonrpc import INVALID_PARAMS, UNKNOWN_ENTITY, Doc, RpcError
from momlab.bus.timestamps import iso_millis

COMPONENTS = {
    "mom": "Order Management (MOM)",  # the name status.adobe.com uses [doc]
    "store-fulfillment": "Store Fulfillment",  # the mock's own
    "commerce": "Magento Commerce",  # the mock's own
}
REGIONS = {"na": "North America", "emea": "Europe, Middle East and Africa", "apac": "Asia Pacific"}  # the mock's own
KINDS = ("incident", "maintenance")
IMPACTS = ("minor", "major", "maintenance")
STATUSES = ("investigating", "identified", "monitoring", "resolved")
EVENTS = ("incident.opened", "incident.updated", "incident.resolved", "maintenance.opened", "maintenance.updated",
          "maintenance.resolved", "subscription.confirmed")
MAX_TEXT = 2000
# A webhook goes through the states of a bus delivery (momlab.bus.journal.Status), or is cancelled.
CANCELLED = "cancelled"


# -- the page's logic over the store ----------------------------------------------------------------


class StatusPage:
    def __init__(self, bus: Bus):
        self.bus = bus
        self.store = bus.store
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # one sender at a time: a webhook is never sent twice at once
        self._next_round: threading.Timer | None = None

    # incidents ------------------------------------------------------------------------------------
    def incidents(self, state: str | None = None) -> list[Doc]:
        if state not in (None, "", "open", "resolved"):
            raise RpcError(INVALID_PARAMS, f"state must be 'open' or 'resolved'; got {state!r}.", {"path": "query.state"})
        where = {"open": "WHERE status != 'resolved'", "resolved": "WHERE status = 'resolved'"}.get(state or "", "")
        rows = self.store.query(f"SELECT * FROM status_incidents {where} ORDER BY id DESC")
        return [_incident(row) for row in rows]

    def incident(self, incident_id: int) -> Doc:
        rows = self.store.query("SELECT * FROM status_incidents WHERE id = ?", (incident_id,))
        if not rows:
            raise RpcError(UNKNOWN_ENTITY, f"No incident {incident_id} on the status page.", {"path": "url"})
        return _incident(rows[0])

    def open(self, doc: Any) -> Doc:
        doc = _object(doc)
        kind = _choice(doc, "kind", KINDS, default="incident")
        title = _text(doc, "title")
        component = _choice(doc, "component", tuple(COMPONENTS), default="mom")
        regions = _choices(doc, "regions", tuple(REGIONS), default=list(REGIONS))
        impact = _choice(doc, "impact", IMPACTS, default="maintenance" if kind == "maintenance" else "major")
        status = _choice(doc, "status", STATUSES[:-1], default="investigating")
        message = _text(doc, "message", default=title)
        now = time.time()
        updates = [{"at": iso_millis(now), "status": status, "message": message}]
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO status_incidents (kind, title, component, regions, impact, status, started_at, updated_at, updates)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, title, component, json.dumps(regions), impact, status, now, now, json.dumps(updates)),
            )
            incident = _incident(db.execute("SELECT * FROM status_incidents WHERE id = ?", (cursor.lastrowid,)).fetchone())
            self._queue(db, f"{kind}.opened", incident)
        return incident

    def update(self, incident_id: int, doc: Any) -> Doc:
        doc = _object(doc)
        status = _choice(doc, "status", STATUSES)
        message = _text(doc, "message", default=f"Status: {status}.")
        now = time.time()
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM status_incidents WHERE id = ?", (incident_id,)).fetchone()
            if row is None:
                raise RpcError(UNKNOWN_ENTITY, f"No incident {incident_id} on the status page.", {"path": "url"})
            if row["status"] == "resolved":
                raise RpcError(jsonrpc.CONFLICT, f"Incident {incident_id} is already resolved; open a new one instead.", {"path": "$.status"})
            updates = json.loads(row["updates"]) + [{"at": iso_millis(now), "status": status, "message": message}]
            db.execute(
                "UPDATE status_incidents SET status = ?, updated_at = ?, resolved_at = ?, updates = ? WHERE id = ?",
                (status, now, now if status == "resolved" else None, json.dumps(updates), incident_id),
            )
            incident = _incident(db.execute("SELECT * FROM status_incidents WHERE id = ?", (incident_id,)).fetchone())
            self._queue(db, f"{incident['kind']}.{'resolved' if status == 'resolved' else 'updated'}", incident)
        return incident

    def components(self) -> list[Doc]:
        """Each component's state per region: the worst open incident's impact wins."""
        worst = {"major": 3, "minor": 2, "maintenance": 1}
        state: dict[tuple[str, str], str | None] = {(c, r): None for c in COMPONENTS for r in REGIONS}
        for incident in self.incidents("open"):
            for region in incident["regions"]:
                key = (incident["component"], region)
                current = state[key]
                if current is None or worst[incident["impact"]] > worst[current]:
                    state[key] = incident["impact"]
        words = {None: "operational", "minor": "degraded", "major": "outage", "maintenance": "maintenance"}
        return [{"id": c, "name": name, "regions": {r: words[state[(c, r)]] for r in REGIONS}} for c, name in COMPONENTS.items()]

    # subscriptions --------------------------------------------------------------------------------
    def subscribe(self, doc: Any) -> Doc:
        doc = _object(doc)
        url = _text(doc, "url")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RpcError(INVALID_PARAMS, f"url must be an http(s) address that accepts a POST; got {url[:100]!r}.", {"path": "$.url"})
        secret = doc.get("secret")
        if secret is not None and not (isinstance(secret, str) and secret):
            raise RpcError(INVALID_PARAMS, "secret must be a non-empty string (or left out for unsigned webhooks).", {"path": "$.secret"})
        components = _choices(doc, "components", tuple(COMPONENTS), default=list(COMPONENTS))
        regions = _choices(doc, "regions", tuple(REGIONS), default=list(REGIONS))
        kinds = _choices(doc, "events", KINDS, default=list(KINDS))
        now = time.time()
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO status_subscriptions (url, secret, components, regions, events, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (url, secret, json.dumps(components), json.dumps(regions), json.dumps(kinds), now),
            )
            subscription = _subscription(db.execute("SELECT * FROM status_subscriptions WHERE id = ?", (cursor.lastrowid,)).fetchone())
            self._add_delivery(db, subscription["id"], None, "subscription.confirmed", {"subscription": subscription})
        return subscription

    def subscriptions(self) -> list[Doc]:
        return [_subscription(row) for row in self.store.query("SELECT * FROM status_subscriptions ORDER BY id")]

    def unsubscribe(self, subscription_id: int) -> Doc:
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM status_subscriptions WHERE id = ?", (subscription_id,)).fetchone()
            if row is None:
                raise RpcError(UNKNOWN_ENTITY, f"No subscription {subscription_id}.", {"path": "url"})
            db.execute("DELETE FROM status_subscriptions WHERE id = ?", (subscription_id,))
            db.execute("UPDATE status_deliveries SET status = ? WHERE subscription_id = ? AND status IN (?, ?)", (CANCELLED, subscription_id, *WAITING))
        return _subscription(row)

    def deliveries(self) -> list[Doc]:
        rows = self.store.query("SELECT * FROM status_deliveries ORDER BY id")
        return [
            {"id": r["id"], "at": iso_millis(r["at"]), "subscription_id": r["subscription_id"], "incident_id": r["incident_id"],
             "event": r["event"], "status": r["status"], "attempts": r["attempts"], "error": r["error"]}
            for r in rows
        ]

    # webhooks -------------------------------------------------------------------------------------
    def _queue(self, db: sqlite3.Connection, event: str, incident: Doc) -> None:
        """A delivery for every subscription whose filters match the incident."""
        kind = event.split(".")[0]
        for row in db.execute("SELECT * FROM status_subscriptions ORDER BY id").fetchall():
            sub = _subscription(row)
            if kind in sub["events"] and incident["component"] in sub["components"] and set(incident["regions"]) & set(sub["regions"]):
                self._add_delivery(db, sub["id"], incident["id"], event, {"incident": incident})

    def _add_delivery(self, db: sqlite3.Connection, subscription_id: int, incident_id: int | None, event: str, payload: Doc) -> None:
        now = time.time()
        body = json.dumps({"id": str(uuid.uuid4()), "event": event, "sent_at": iso_millis(now), **payload}, separators=(",", ":"))
        db.execute(
            "INSERT INTO status_deliveries (subscription_id, incident_id, event, body, status, attempts, at, due_at)"
            " VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (subscription_id, incident_id, event, body, Status.PENDING, now, now),
        )

    def send_due(self) -> None:
        """Try every delivery that is due now, oldest first; come back for the retries."""
        with self._send_lock:
            self._send_due()
        self._come_back()

    def _send_due(self) -> None:
        rows = self.store.query(
            "SELECT d.id, d.body, d.attempts, s.url, s.secret FROM status_deliveries d JOIN status_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status IN (?, ?) AND d.due_at <= ? ORDER BY d.id",
            (*WAITING, time.time()),
        )
        config = self.bus.config
        for row in rows:
            outcome = delivery.post(row["url"], row["secret"], row["body"].encode(), config.delivery_timeout, rpc=False)
            attempts = row["attempts"] + 1
            due = None if outcome.ok else delivery.retry_at(config, attempts)
            status = Status.DELIVERED if outcome.ok else Status.RETRYING if due is not None else Status.FAILED
            with self.store.transaction() as db:
                db.execute(
                    "UPDATE status_deliveries SET status = ?, attempts = ?, error = ?, due_at = ? WHERE id = ? AND status != ?",
                    (status, attempts, outcome.error, due, row["id"], CANCELLED),
                )

    def _come_back(self) -> None:
        """Call send_due again when the earliest retry is due (looking again at least every second)."""
        due = self.store.query("SELECT MIN(due_at) FROM status_deliveries WHERE status = ?", (Status.RETRYING,))[0][0]
        if due is None:
            return
        with self._lock:
            waiting = self._next_round
            if waiting is not None and waiting.is_alive() and waiting is not threading.current_thread():
                return
            self._next_round = threading.Timer(max(0.0, min(1.0, due - time.time())), self.send_due)
            self._next_round.daemon = True
            self._next_round.start()

    # the page -------------------------------------------------------------------------------------
    def page(self) -> str:
        e = html.escape
        components = self.components()
        head = "".join(f"<th scope='col'>{e(name)}</th>" for name in REGIONS.values())
        body = "".join(
            f"<tr><th scope='row'>{e(c['name'])}</th>"
            + "".join(f"<td class='{e(state)}'>{e(state)}</td>" for state in c["regions"].values())
            + "</tr>"
            for c in components
        )
        open_ = self.incidents("open")
        resolved = self.incidents("resolved")[:20]

        def card(incident: Doc) -> str:
            updates = "".join(
                f"<li><b>{e(u['status'])}</b> <time>{e(u['at'])}</time>: {e(u['message'])}</li>" for u in reversed(incident["updates"])
            )
            where = ", ".join(REGIONS.get(r, r) for r in incident["regions"])
            component: str = incident["component"]
            return (
                f"<article><h3>#{incident['id']} {e(incident['title'])}</h3>"
                f"<p>{e(incident['kind'])} · {e(COMPONENTS.get(component, component))} · {e(where)}"
                f" · impact {e(incident['impact'])} · <b>{e(incident['status'])}</b></p><ul>{updates}</ul></article>"
            )

        return PAGE.format(
            head=head,
            body=body,
            open="".join(card(i) for i in open_) or "<p>No open incidents.</p>",
            resolved="".join(card(i) for i in resolved) or "<p>None yet.</p>",
        )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>momlab status</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="10">
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #1d1d1f; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: .3rem .7rem; border-bottom: 1px solid #ddd; }}
.operational {{ color: #1b6e20; }} .degraded, .maintenance {{ color: #8a5a00; }} .outage {{ color: #b00020; font-weight: 600; }}
article {{ border-left: 4px solid #ccc; padding: .2rem .8rem; margin: .6rem 0; }} .note {{ color: #555; }}
</style></head><body>
<h1>momlab status</h1>
<p class="note">The mock MOM's own status page, a stand-in for status.adobe.com (formerly status.magento.com).
Its components, regions and webhooks are the mock's design. Feed: <a href="/status/incidents">/status/incidents</a> (JSON).</p>
<h2>Components</h2>
<table><thead><tr><th scope="col">component</th>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>Open incidents</h2>{open}
<h2>Resolved</h2>{resolved}
</body></html>"""


# -- checks and shapes ----------------------------------------------------------------------------------


def _object(doc: Any) -> Doc:
    if not isinstance(doc, dict):
        raise RpcError(INVALID_PARAMS, "The body must be a JSON object.", {"path": "$"})
    return doc


def _text(doc: Doc, name: str, default: str | None = None) -> str:
    value = doc.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise RpcError(INVALID_PARAMS, f"{name} must be a non-empty string.", {"path": f"$.{name}"})
    if len(value) > MAX_TEXT:
        raise RpcError(INVALID_PARAMS, f"{name} is over {MAX_TEXT} characters.", {"path": f"$.{name}"})
    return value


def _choice(doc: Doc, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = doc.get(name, default)
    if not isinstance(value, str) or value not in allowed:
        raise RpcError(INVALID_PARAMS, f"{name} must be one of {', '.join(allowed)}; got {str(value)[:60]!r}.", {"path": f"$.{name}"})
    return value


def _choices(doc: Doc, name: str, allowed: tuple[str, ...], default: list[str]) -> list[str]:
    value = doc.get(name)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not value:
        raise RpcError(INVALID_PARAMS, f"{name} must be a non-empty list drawn from: {', '.join(allowed)}.", {"path": f"$.{name}"})
    for index, item in enumerate(value):
        if item not in allowed:
            raise RpcError(INVALID_PARAMS, f"{name}[{index}] must be one of {', '.join(allowed)}; got {str(item)[:60]!r}.",
                           {"path": f"$.{name}[{index}]"})
    return sorted(set(value), key=list(allowed).index)


def _incident(row: sqlite3.Row) -> Doc:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "title": row["title"],
        "component": row["component"],
        "regions": json.loads(row["regions"]),
        "impact": row["impact"],
        "status": row["status"],
        "started_at": iso_millis(row["started_at"]),
        "updated_at": iso_millis(row["updated_at"]),
        "resolved_at": iso_millis(row["resolved_at"]),
        "updates": json.loads(row["updates"]),
    }


def _subscription(row: sqlite3.Row) -> Doc:
    return {
        "id": row["id"],
        "url": row["url"],
        "signed": bool(row["secret"]),
        "components": json.loads(row["components"]),
        "regions": json.loads(row["regions"]),
        "events": json.loads(row["events"]),
        "created_at": iso_millis(row["created_at"]),
    }

