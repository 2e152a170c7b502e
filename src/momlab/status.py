"""The learner's side of the mock's status page (lab 05, objective 5.3): open, update and resolve
incidents, subscribe a webhook, and `Inbox`, a webhook receiver that checks signatures. The page itself
(and what of it is the mock's own design, not Adobe's) is momlab.bus.statuspage.

    inbox = Inbox(secret="s3cret", handler=print).start()
    status.subscribe(mom, inbox.url, secret=inbox.secret)
    status.open_incident(mom, "Order export delayed", regions=["emea"])
"""

from __future__ import annotations

import json
import time

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response

from momlab.bus import signing
from momlab.bus.server import Served
from momlab.receiver import remote_app


def open_incident(mock, title: str, component: str = "mom", regions: list[str] | None = None, impact: str | None = None,
                  kind: str = "incident", message: str | None = None) -> dict:
    """Open an incident (or a maintenance) on the mock's status page, as the provider would."""
    body = {"title": title, "component": component, "kind": kind}
    for name, value in (("regions", regions), ("impact", impact), ("message", message)):
        if value is not None:
            body[name] = value
    return mock.client.request("POST", "/status/incidents", body, token=True)


def update_incident(mock, incident_id: int, status: str, message: str | None = None) -> dict:
    body = {"status": status} if message is None else {"status": status, "message": message}
    return mock.client.request("POST", f"/status/incidents/{int(incident_id)}/updates", body, token=True)


def resolve_incident(mock, incident_id: int, message: str = "This incident has been resolved.") -> dict:
    return update_incident(mock, incident_id, "resolved", message)


def incidents(mock, state: str | None = None) -> list[dict]:
    return mock.client.request("GET", "/status/incidents" + (f"?state={state}" if state else ""))


def components(mock) -> list[dict]:
    return mock.client.request("GET", "/status/components")


def subscribe(mock, url: str, secret: str | None = None, components: list[str] | None = None, regions: list[str] | None = None,
              events: list[str] | None = None) -> dict:
    """Subscribe a webhook url to the status page; filters left out mean 'all'."""
    body: dict = {"url": url}
    for name, value in (("secret", secret), ("components", components), ("regions", regions), ("events", events)):
        if value is not None:
            body[name] = value
    return mock.client.request("POST", "/status/subscriptions", body, token=True)


def unsubscribe(mock, subscription_id: int) -> dict:
    return mock.client.request("DELETE", f"/status/subscriptions/{int(subscription_id)}", token=True)


def deliveries(mock) -> list[dict]:
    return mock.client.request("GET", "/status/deliveries")


def wait_idle(mock, timeout: float = 5.0) -> bool:
    """Wait until no webhook is waiting to be sent (or retried); True when that happened in time."""
    deadline = time.monotonic() + timeout
    while any(d["status"] in ("pending", "retrying") for d in deliveries(mock)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Inbox(Served):
    """A webhook receiver for the status feed: checks the signature, keeps every event, and runs
    `handler(event)` for each (its exception becomes an HTTP 500, so the page retries).

        inbox = Inbox(secret="s3cret", handler=print).start()
        status.subscribe(mom, inbox.url, secret=inbox.secret)
    """

    def __init__(self, secret: str | None = None, handler=None, path: str = "/status-webhook"):
        self.secret = secret
        self.handler = handler
        self.path = path
        self.log: list[dict] = []

    thread_name = "momlab-status-inbox"
    not_running = "The inbox is not running: call .start() first."

    def app(self) -> Starlette:
        return remote_app(self.path, self.handle)

    @property
    def events(self) -> list[dict]:
        """The events accepted so far, oldest first."""
        return [entry["payload"] for entry in self.log if entry["outcome"] == "ok"]

    def log_frame(self):
        import pandas as pd

        rows = [{k: v for k, v in entry.items() if k != "payload"} for entry in self.log]
        return pd.DataFrame(rows, columns=["at", "event", "incident_id", "signature", "outcome", "answer"])

    def handle(self, raw: bytes, signature: str | None) -> Response:
        entry = {"at": time.strftime("%H:%M:%S"), "event": None, "incident_id": None, "signature": "not checked", "outcome": None,
                 "answer": None, "payload": None}
        try:
            if self.secret is not None:
                if not signing.verify(self.secret, raw, signature):
                    entry["signature"] = "missing" if not signature else "bad"
                    entry["outcome"] = "refused"
                    return JSONResponse({"error": f"{signing.HEADER} is {entry['signature']}"}, 401)
                entry["signature"] = "ok"
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = None
            if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
                entry["outcome"] = "refused"
                return JSONResponse({"error": "expected a JSON object with an 'event'"}, 400)
            entry.update(event=payload["event"], incident_id=(payload.get("incident") or {}).get("id"), payload=payload)
            try:
                answer = self.handler(payload) if self.handler else None
            except Exception as exc:  # the learner's handler failed: the page retries it
                entry.update(outcome="handler error", answer=f"{type(exc).__name__}: {exc}")
                return JSONResponse({"error": entry["answer"]}, 500)
            entry.update(outcome="ok", answer=answer)
            return JSONResponse({"ok": True})
        finally:
            self.log.append(entry)
