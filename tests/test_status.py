"""The mock's status page and incident feed (momlab.status, lab 05): page, feed, subscriptions,
signed webhooks with retries, and refusals that say what to fix."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests

from momlab import status
from momlab.client import MomError
from tests.support.mocks import stop_soon, wait_for
from tests.support.servers import down_port


def auth(mock) -> dict:
    return {"Authorization": f"Bearer {mock.client.token()}"}


def signed_by(secret: str, request: dict) -> bool:
    expected = "sha1=" + hmac.new(secret.encode(), request["body"], hashlib.sha1).hexdigest()
    return request["headers"].get("X-Signature") == expected


@pytest.fixture
def inbox():
    started = []

    def start(**kwargs) -> status.Inbox:
        box = status.Inbox(**kwargs).start()
        started.append(box)
        return box

    yield start
    for box in started:
        stop_soon(box)


def test_the_page_shows_components_and_incidents_escaped(mock):
    page = requests.get(f"{mock.url}/status", timeout=5)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Order Management (MOM)" in page.text and "No open incidents." in page.text
    assert "script-src" not in page.headers["content-security-policy"] and "default-src 'none'" in page.headers["content-security-policy"]
    status.open_incident(mock, '<script>alert("x")</script> & delays', regions=["emea"], impact="minor", message="<img src=x onerror=1>")
    page = requests.get(f"{mock.url}/status", timeout=5).text
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; delays" in page and "&lt;img src=x onerror=1&gt;" in page
    assert "<td class='degraded'>degraded</td>" in page


def test_the_feed_lists_incidents_newest_first_and_filters_by_state(mock):
    first = status.open_incident(mock, "Order export delayed")
    second = status.open_incident(mock, "Planned upgrade", kind="maintenance", regions=["apac"])
    assert (first["kind"], first["component"], first["regions"], first["impact"], first["status"]) == ("incident", "mom", ["na", "emea", "apac"], "major", "investigating")
    assert (second["impact"], second["regions"]) == ("maintenance", ["apac"])
    status.update_incident(mock, first["id"], "identified", "A queue is stuck.")
    resolved = status.resolve_incident(mock, first["id"])
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert [u["status"] for u in resolved["updates"]] == ["investigating", "identified", "resolved"]
    assert [i["id"] for i in status.incidents(mock)] == [second["id"], first["id"]]
    assert [i["id"] for i in status.incidents(mock, "open")] == [second["id"]]
    assert [i["id"] for i in status.incidents(mock, "resolved")] == [first["id"]]
    assert requests.get(f"{mock.url}/status/incidents/{first['id']}", timeout=5).json() == resolved


def test_components_report_the_worst_open_incident_per_region(mock):
    status.open_incident(mock, "slow", regions=["na"], impact="minor")
    outage = status.open_incident(mock, "down", regions=["na", "emea"], impact="major")
    status.open_incident(mock, "upgrade", component="commerce", kind="maintenance", regions=["apac"])
    states = {c["id"]: c["regions"] for c in status.components(mock)}
    assert states["mom"] == {"na": "outage", "emea": "outage", "apac": "operational"}
    assert states["commerce"] == {"na": "operational", "emea": "operational", "apac": "maintenance"}
    assert set(states["store-fulfillment"].values()) == {"operational"}
    status.resolve_incident(mock, outage["id"])
    assert {c["id"]: c["regions"] for c in status.components(mock)}["mom"] == {"na": "degraded", "emea": "operational", "apac": "operational"}


def test_a_subscription_gets_a_signed_confirmation_then_matching_incidents_only(mock, raw_remote):
    remote = raw_remote()
    sub = status.subscribe(mock, remote.url, secret="hook-secret", components=["mom"], regions=["emea"], events=["incident"])
    assert sub["signed"] is True and "secret" not in sub and (sub["components"], sub["regions"], sub["events"]) == (["mom"], ["emea"], ["incident"])
    confirmation = remote.bodies()[0]
    assert confirmation["event"] == "subscription.confirmed" and confirmation["subscription"]["id"] == sub["id"]
    status.open_incident(mock, "na only", regions=["na"])  # another region
    status.open_incident(mock, "commerce", component="commerce", regions=["emea"])  # another component
    status.open_incident(mock, "maintenance", kind="maintenance", regions=["emea"])  # another kind of event
    hit = status.open_incident(mock, "emea and na", regions=["na", "emea"])
    status.resolve_incident(mock, hit["id"])
    events = [(b["event"], (b.get("incident") or {}).get("id")) for b in remote.bodies()]
    assert events == [("subscription.confirmed", None), ("incident.opened", hit["id"]), ("incident.resolved", hit["id"])]
    assert all(signed_by("hook-secret", r) for r in remote.requests)
    assert remote.bodies()[-1]["incident"]["status"] == "resolved"
    assert len({b["id"] for b in remote.bodies()}) == 3
    listed = requests.get(f"{mock.url}/status/subscriptions", timeout=5).json()
    assert listed == [sub] and "hook-secret" not in json.dumps(listed)


def test_a_failing_webhook_is_retried_then_marked_failed(start_mock, raw_remote):
    mock = start_mock(max_attempts=3, backoff=0.02)
    remote = raw_remote()
    remote.answers = [(503, {"busy": True})]
    status.subscribe(mock, remote.url)
    (row,) = wait_for(lambda: [d for d in status.deliveries(mock) if d["status"] == "delivered"], what="a retried webhook")
    assert row["attempts"] == 2 and row["error"] is None and len(remote.requests) == 2
    status.subscribe(mock, f"http://127.0.0.1:{down_port()}/hook")
    failed = wait_for(lambda: [d for d in status.deliveries(mock) if d["status"] == "failed"], what="a failed webhook")
    assert failed[0]["attempts"] == 3 and "could not reach" in failed[0]["error"] and "connection refused" in failed[0]["error"]


def test_unsubscribing_stops_the_webhooks(mock, raw_remote):
    remote = raw_remote()
    sub = status.subscribe(mock, remote.url)
    assert status.unsubscribe(mock, sub["id"])["id"] == sub["id"]
    status.open_incident(mock, "after unsubscribing")
    assert [b["event"] for b in remote.bodies()] == ["subscription.confirmed"]
    with pytest.raises(MomError) as refused:
        status.unsubscribe(mock, sub["id"])
    assert refused.value.code == -32004 and refused.value.http_status == 404


@pytest.mark.parametrize(
    "path, body, code, where",
    [
        ("/status/incidents", {"title": ""}, -32602, "$.title"),
        ("/status/incidents", {"title": "x", "component": "MOM"}, -32602, "$.component"),
        ("/status/incidents", {"title": "x", "regions": ["emea", "moon"]}, -32602, "$.regions[1]"),
        ("/status/incidents", {"title": "x", "regions": []}, -32602, "$.regions"),
        ("/status/incidents", {"title": "x", "status": "resolved"}, -32602, "$.status"),
        ("/status/incidents", ["not", "an", "object"], -32602, "$"),
        ("/status/incidents", b"{not json", -32700, "$"),
        ("/status/incidents/4242/updates", {"status": "resolved"}, -32004, "url"),
        ("/status/subscriptions", {"url": "ftp://example.com/x"}, -32602, "$.url"),
        ("/status/subscriptions", {"url": "http://example.com/x", "secret": 42}, -32602, "$.secret"),
        ("/status/subscriptions", {"url": "http://example.com/x", "events": ["incident.opened"]}, -32602, "$.events[0]"),
    ],
)
def test_bad_input_is_refused_with_what_to_fix_and_where(mock, path, body, code, where):
    data = body if isinstance(body, bytes) else json.dumps(body)
    answer = requests.post(f"{mock.url}{path}", data=data, headers={**auth(mock), "Content-Type": "application/json"}, timeout=5)
    assert 400 <= answer.status_code < 500
    error = answer.json()["error"]
    assert error["code"] == code and error["data"]["path"] == where and error["message"].strip()


def test_changing_the_page_needs_a_token_but_reading_it_does_not(mock):
    for path in ("/status/incidents", "/status/subscriptions"):
        answer = requests.post(f"{mock.url}{path}", json={"title": "x", "url": "http://example.com/x"}, timeout=5)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == -32001
    assert requests.delete(f"{mock.url}/status/subscriptions/1", timeout=5).status_code == 401
    for path in ("/status", "/status/incidents", "/status/components", "/status/subscriptions", "/status/deliveries"):
        assert requests.get(f"{mock.url}{path}", timeout=5).status_code == 200


def test_a_resolved_incident_cannot_change_and_unknown_ids_are_404(mock):
    incident = status.open_incident(mock, "short-lived")
    status.resolve_incident(mock, incident["id"])
    with pytest.raises(MomError) as refused:
        status.update_incident(mock, incident["id"], "monitoring")
    assert refused.value.code == -32005 and refused.value.http_status == 409
    assert requests.get(f"{mock.url}/status/incidents/999", timeout=5).status_code == 404
    assert requests.get(f"{mock.url}/status/incidents/99999999999999999999999", timeout=5).status_code == 404
    assert requests.get(f"{mock.url}/status/incidents?state=closed", timeout=5).json()["error"]["data"]["path"] == "query.state"


def test_reset_empties_the_status_page(mock, raw_remote):
    status.subscribe(mock, raw_remote().url)
    status.open_incident(mock, "before reset")
    mock.reset()
    assert status.incidents(mock) == [] and status.deliveries(mock) == []
    assert requests.get(f"{mock.url}/status/subscriptions", timeout=5).json() == []


def test_the_inbox_checks_signatures_and_runs_the_handler(mock, inbox):
    seen = []
    box = inbox(secret="inbox-secret", handler=lambda e: seen.append(e["event"]))
    status.subscribe(mock, box.url, secret="inbox-secret")
    incident = status.open_incident(mock, "feed test")
    assert seen == ["subscription.confirmed", "incident.opened"]
    assert [e["incident"]["id"] for e in box.events[1:]] == [incident["id"]]
    frame = box.log_frame()
    assert list(frame["signature"]) == ["ok", "ok"] and list(frame["incident_id"])[1] == incident["id"]
    forged = requests.post(box.url, json={"event": "incident.opened"}, headers={"X-Signature": "sha1=00"}, timeout=5)
    assert forged.status_code == 401 and box.log[-1]["signature"] == "bad" and len(seen) == 2
    body = b"[1, 2]"
    sig = "sha1=" + hmac.new(b"inbox-secret", body, hashlib.sha1).hexdigest()
    assert requests.post(box.url, data=body, headers={"X-Signature": sig}, timeout=5).status_code == 400


def test_a_handler_that_fails_makes_the_page_retry(start_mock, inbox):
    mock = start_mock(max_attempts=3, backoff=0.02)
    calls = []

    def flaky(event):
        calls.append(event["event"])
        if len(calls) == 1:
            raise RuntimeError("not ready")

    box = inbox(handler=flaky)
    status.subscribe(mock, box.url)
    assert status.deliveries(mock)[0]["status"] == "retrying"
    assert status.wait_idle(mock)
    assert [d["status"] for d in status.deliveries(mock)] == ["delivered"]
    assert calls == ["subscription.confirmed", "subscription.confirmed"]
    assert list(box.log_frame()["outcome"]) == ["handler error", "ok"]
