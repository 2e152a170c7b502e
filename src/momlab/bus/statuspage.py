"""The bus side of the status page and incident feed (lab 05, objective 5.3). The mock's own design;
the learner's calls are in momlab.status.

Magento's real status page was status.magento.com and is now status.adobe.com: you sign in with an
Adobe ID, create a subscription for Order Management (MOM), choose regions and event types, and
notices arrive by e-mail (mom-reference.md 7.7). No public source describes a webhook or a JSON feed
for it. This module is a stand-in so a lab can practise the same habit with code: read the page,
subscribe, and react when an incident opens or is resolved. Components, regions, statuses and the
webhook's shape are this mock's choices, not Adobe's.

    GET    /status                         the page (HTML)
    GET    /status/components              what the page reports on, and each one's state per region
    GET    /status/incidents               the incident feed (JSON), newest first; ?state=open|resolved
    GET    /status/incidents/{id}          one incident with its updates
    POST   /status/incidents               open an incident or a maintenance (token)
    POST   /status/incidents/{id}/updates  add an update: investigating, identified, monitoring, resolved (token)
    POST   /status/subscriptions           subscribe a webhook url, with filters (token: the mock's "sign in")
    GET    /status/subscriptions           the subscriptions (secrets hidden)
    DELETE /status/subscriptions/{id}      unsubscribe (token)
    GET    /status/deliveries              every webhook sent and how it went

Each webhook is a POST of JSON `{"id", "event", "sent_at", "incident"}` signed like the bus's
deliveries (`X-Signature: sha1=<HMAC-SHA1 of the body>` with the subscription's secret). A new
subscription first gets a `subscription.confirmed` event, as an e-mail subscription gets its
confirmation. A failed webhook is retried with back-off, as deliveries are.
"""

from __future__ import annotations

import html
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from momlab.bus import delivery, jsonrpc, signing
from momlab.bus.bodies import read_capped
from momlab.bus.jsonrpc import INVALID_PARAMS, UNAUTHORIZED, UNKNOWN_ENTITY, RpcError

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


# -- the page's logic over the store ----------------------------------------------------------------


class StatusPage:
    def __init__(self, bus):
        self.bus = bus
        self.store = bus.store
        self._session = requests.Session()
        self._session.trust_env = False
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # one sender at a time: a webhook is never sent twice at once
        self._retrier: threading.Thread | None = None

    # incidents ------------------------------------------------------------------------------------
    def incidents(self, state: str | None = None) -> list[dict]:
        if state not in (None, "", "open", "resolved"):
            raise RpcError(INVALID_PARAMS, f"state must be 'open' or 'resolved'; got {state!r}.", {"path": "query.state"})
        where = {"open": "WHERE status != 'resolved'", "resolved": "WHERE status = 'resolved'"}.get(state or "", "")
        rows = self.store.query(f"SELECT * FROM status_incidents {where} ORDER BY id DESC")
        return [_incident(row) for row in rows]

    def incident(self, incident_id: int) -> dict:
        rows = self.store.query("SELECT * FROM status_incidents WHERE id = ?", (incident_id,))
        if not rows:
            raise RpcError(UNKNOWN_ENTITY, f"No incident {incident_id} on the status page.", {"path": "url"})
        return _incident(rows[0])

    def open(self, doc: Any) -> dict:
        doc = _object(doc)
        kind = _choice(doc, "kind", KINDS, default="incident")
        title = _text(doc, "title")
        component = _choice(doc, "component", tuple(COMPONENTS), default="mom")
        regions = _choices(doc, "regions", tuple(REGIONS), default=list(REGIONS))
        impact = _choice(doc, "impact", IMPACTS, default="maintenance" if kind == "maintenance" else "major")
        status = _choice(doc, "status", STATUSES[:-1], default="investigating")
        message = _text(doc, "message", default=title)
        now = time.time()
        updates = [{"at": _iso(now), "status": status, "message": message}]
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO status_incidents (kind, title, component, regions, impact, status, started_at, updated_at, updates)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, title, component, json.dumps(regions), impact, status, now, now, json.dumps(updates)),
            )
            incident = _incident(db.execute("SELECT * FROM status_incidents WHERE id = ?", (cursor.lastrowid,)).fetchone())
            self._queue(db, f"{kind}.opened", incident)
        return incident

    def update(self, incident_id: int, doc: Any) -> dict:
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
            updates = json.loads(row["updates"]) + [{"at": _iso(now), "status": status, "message": message}]
            db.execute(
                "UPDATE status_incidents SET status = ?, updated_at = ?, resolved_at = ?, updates = ? WHERE id = ?",
                (status, now, now if status == "resolved" else None, json.dumps(updates), incident_id),
            )
            incident = _incident(db.execute("SELECT * FROM status_incidents WHERE id = ?", (incident_id,)).fetchone())
            self._queue(db, f"{incident['kind']}.{'resolved' if status == 'resolved' else 'updated'}", incident)
        return incident

    def components(self) -> list[dict]:
        """Each component's state per region: the worst open incident's impact wins."""
        worst = {"major": 3, "minor": 2, "maintenance": 1}
        state = {(c, r): None for c in COMPONENTS for r in REGIONS}
        for incident in self.incidents("open"):
            for region in incident["regions"]:
                key = (incident["component"], region)
                if state[key] is None or worst[incident["impact"]] > worst[state[key]]:
                    state[key] = incident["impact"]
        words = {None: "operational", "minor": "degraded", "major": "outage", "maintenance": "maintenance"}
        return [{"id": c, "name": name, "regions": {r: words[state[(c, r)]] for r in REGIONS}} for c, name in COMPONENTS.items()]

    # subscriptions --------------------------------------------------------------------------------
    def subscribe(self, doc: Any) -> dict:
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

    def subscriptions(self) -> list[dict]:
        return [_subscription(row) for row in self.store.query("SELECT * FROM status_subscriptions ORDER BY id")]

    def unsubscribe(self, subscription_id: int) -> dict:
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM status_subscriptions WHERE id = ?", (subscription_id,)).fetchone()
            if row is None:
                raise RpcError(UNKNOWN_ENTITY, f"No subscription {subscription_id}.", {"path": "url"})
            db.execute("DELETE FROM status_subscriptions WHERE id = ?", (subscription_id,))
            db.execute("UPDATE status_deliveries SET status = 'cancelled' WHERE subscription_id = ? AND status IN ('pending', 'retrying')",
                       (subscription_id,))
        return _subscription(row)

    def deliveries(self) -> list[dict]:
        rows = self.store.query("SELECT * FROM status_deliveries ORDER BY id")
        return [
            {"id": r["id"], "at": _iso(r["at"]), "subscription_id": r["subscription_id"], "incident_id": r["incident_id"],
             "event": r["event"], "status": r["status"], "attempts": r["attempts"], "error": r["error"]}
            for r in rows
        ]

    # webhooks -------------------------------------------------------------------------------------
    def _queue(self, db, event: str, incident: dict) -> None:
        """A delivery for every subscription whose filters match the incident."""
        kind = event.split(".")[0]
        for row in db.execute("SELECT * FROM status_subscriptions ORDER BY id").fetchall():
            sub = _subscription(row)
            if kind in sub["events"] and incident["component"] in sub["components"] and set(incident["regions"]) & set(sub["regions"]):
                self._add_delivery(db, sub["id"], incident["id"], event, {"incident": incident})

    def _add_delivery(self, db, subscription_id: int, incident_id: int | None, event: str, payload: dict) -> None:
        now = time.time()
        body = json.dumps({"id": str(uuid.uuid4()), "event": event, "sent_at": _iso(now), **payload}, separators=(",", ":"))
        db.execute(
            "INSERT INTO status_deliveries (subscription_id, incident_id, event, body, status, attempts, at, due_at)"
            " VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
            (subscription_id, incident_id, event, body, now, now),
        )

    def send_due(self) -> None:
        """Try every delivery that is due now, oldest first; schedule retries for the failures."""
        with self._send_lock:
            self._send_due()
        if self.store.query("SELECT 1 FROM status_deliveries WHERE status = 'retrying' LIMIT 1"):
            self._retry_later()

    def _send_due(self) -> None:
        rows = self.store.query(
            "SELECT d.id, d.body, d.attempts, s.url, s.secret FROM status_deliveries d JOIN status_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status IN ('pending', 'retrying') AND d.due_at <= ? ORDER BY d.id",
            (time.time(),),
        )
        for row in rows:
            error = self._post(row["url"], row["secret"], row["body"].encode())
            attempts = row["attempts"] + 1
            config = self.bus.config
            if error is None:
                status, due = "delivered", None
            elif attempts < config.max_attempts:
                status, due = "retrying", time.time() + config.backoff * 2 ** (attempts - 1)
            else:
                status, due = "failed", None
            with self.store.transaction() as db:
                db.execute(
                    "UPDATE status_deliveries SET status = ?, attempts = ?, error = ?, due_at = ? WHERE id = ? AND status != 'cancelled'",
                    (status, attempts, error, due, row["id"]),
                )

    def _post(self, url: str, secret: str | None, body: bytes) -> str | None:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[signing.HEADER] = signing.sign(secret, body)
        timeout = self.bus.config.delivery_timeout
        try:
            answer = self._session.post(url, data=body, headers=headers, timeout=timeout)
        except requests.Timeout:
            return f"no answer within {timeout:g} s"
        except requests.RequestException as exc:
            return f"could not reach {url}: {delivery._reason(exc)}"
        if not 200 <= answer.status_code < 300:
            return f"HTTP {answer.status_code} from the subscriber: {answer.text[:200]}"
        return None

    def _retry_later(self) -> None:
        with self._lock:
            if self._retrier is not None and self._retrier.is_alive():
                return
            self._retrier = threading.Thread(target=self._retry_loop, name="momlab-status-retry", daemon=True)
            self._retrier.start()

    def _retry_loop(self) -> None:
        while True:
            due = self.store.query("SELECT MIN(due_at) FROM status_deliveries WHERE status = 'retrying'")[0][0]
            if due is None:
                return
            time.sleep(max(0.0, min(1.0, due - time.time())))
            self.send_due()

    def pending(self) -> int:
        return self.store.query("SELECT COUNT(*) FROM status_deliveries WHERE status IN ('pending', 'retrying')")[0][0]

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

        def card(incident: dict) -> str:
            updates = "".join(
                f"<li><b>{e(u['status'])}</b> <time>{e(u['at'])}</time>: {e(u['message'])}</li>" for u in reversed(incident["updates"])
            )
            where = ", ".join(REGIONS.get(r, r) for r in incident["regions"])
            return (
                f"<article><h3>#{incident['id']} {e(incident['title'])}</h3>"
                f"<p>{e(incident['kind'])} · {e(COMPONENTS.get(incident['component'], incident['component']))} · {e(where)}"
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


# -- HTTP ---------------------------------------------------------------------------------------------


def routes(bus) -> list[Route]:
    """The status page's routes, for momlab.bus.app."""
    page = StatusPage(bus)

    def refused(error: RpcError) -> JSONResponse:
        return JSONResponse(jsonrpc.failure(None, error), error.http_status)

    def authorised(request: Request) -> RpcError | None:
        if not bus.config.auth:
            return None
        problem = bus.tokens.check(request.headers.get("authorization"))
        return RpcError(UNAUTHORIZED, problem, {"path": "headers.Authorization"}) if problem else None

    async def body_of(request: Request) -> Any:
        """The JSON body; refused once it is known to be over 1 MiB, before the rest is read."""
        raw = await read_capped(request)
        if raw is None:
            raise RpcError(jsonrpc.LIMIT_EXCEEDED, "The body is over 1 MiB.", {"path": "$"})
        return jsonrpc.decode(raw)

    def endpoint(work, needs_token: bool = False, sends: bool = False, status: int = 200):
        async def run(request: Request) -> Response:
            try:
                if needs_token and (problem := authorised(request)):
                    return refused(problem)
                answer = await work(request)
            except RpcError as error:
                return refused(error)
            if sends:
                await run_in_threadpool(page.send_due)
            return answer if isinstance(answer, Response) else JSONResponse(answer, status)

        return run

    def number(request: Request, name: str) -> int:
        value = request.path_params[name]
        if value >= 2**63:
            raise RpcError(UNKNOWN_ENTITY, f"No {name.split('_')[0]} {value}.", {"path": "url"})
        return value

    async def show_page(request):
        return HTMLResponse(page.page(), headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    async def components(request):
        return page.components()

    async def incidents(request):
        return page.incidents(request.query_params.get("state"))

    async def incident(request):
        return page.incident(number(request, "incident_id"))

    async def open_incident(request):
        return page.open(await body_of(request))

    async def update_incident(request):
        return page.update(number(request, "incident_id"), await body_of(request))

    async def subscribe(request):
        return page.subscribe(await body_of(request))

    async def subscriptions(request):
        return page.subscriptions()

    async def unsubscribe(request):
        return page.unsubscribe(number(request, "subscription_id"))

    async def deliveries(request):
        return page.deliveries()

    return [
        Route("/status", endpoint(show_page), methods=["GET"]),
        Route("/status/components", endpoint(components), methods=["GET"]),
        Route("/status/incidents", endpoint(incidents), methods=["GET"]),
        Route("/status/incidents", endpoint(open_incident, needs_token=True, sends=True, status=201), methods=["POST"]),
        Route("/status/incidents/{incident_id:int}", endpoint(incident), methods=["GET"]),
        Route("/status/incidents/{incident_id:int}/updates", endpoint(update_incident, needs_token=True, sends=True), methods=["POST"]),
        Route("/status/subscriptions", endpoint(subscribe, needs_token=True, sends=True, status=201), methods=["POST"]),
        Route("/status/subscriptions", endpoint(subscriptions), methods=["GET"]),
        Route("/status/subscriptions/{subscription_id:int}", endpoint(unsubscribe, needs_token=True), methods=["DELETE"]),
        Route("/status/deliveries", endpoint(deliveries), methods=["GET"]),
    ]


# -- checks and shapes ----------------------------------------------------------------------------------


def _object(doc: Any) -> dict:
    if not isinstance(doc, dict):
        raise RpcError(INVALID_PARAMS, "The body must be a JSON object.", {"path": "$"})
    return doc


def _text(doc: dict, name: str, default: str | None = None) -> str:
    value = doc.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise RpcError(INVALID_PARAMS, f"{name} must be a non-empty string.", {"path": f"$.{name}"})
    if len(value) > MAX_TEXT:
        raise RpcError(INVALID_PARAMS, f"{name} is over {MAX_TEXT} characters.", {"path": f"$.{name}"})
    return value


def _choice(doc: dict, name: str, allowed: tuple, default: str | None = None) -> str:
    value = doc.get(name, default)
    if value not in allowed:
        raise RpcError(INVALID_PARAMS, f"{name} must be one of {', '.join(allowed)}; got {str(value)[:60]!r}.", {"path": f"$.{name}"})
    return value


def _choices(doc: dict, name: str, allowed: tuple, default: list) -> list:
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


def _incident(row) -> dict:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "title": row["title"],
        "component": row["component"],
        "regions": json.loads(row["regions"]),
        "impact": row["impact"],
        "status": row["status"],
        "started_at": _iso(row["started_at"]),
        "updated_at": _iso(row["updated_at"]),
        "resolved_at": _iso(row["resolved_at"]),
        "updates": json.loads(row["updates"]),
    }


def _subscription(row) -> dict:
    return {
        "id": row["id"],
        "url": row["url"],
        "signed": bool(row["secret"]),
        "components": json.loads(row["components"]),
        "regions": json.loads(row["regions"]),
        "events": json.loads(row["events"]),
        "created_at": _iso(row["created_at"]),
    }


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


# -- the learner's side: calls over HTTP and a webhook inbox -------------------------------------------
