"""Talking JSON-RPC 2.0 to a mock over HTTP, and checking that what it answers conforms."""

from __future__ import annotations

import json
from typing import Any

import requests

RPC_ROUTES = ("/api", "/remote/oms", "/delegate/oms", "/events")
SERVER_CODES = range(-32099, -31999)
STANDARD_CODES = (-32700, -32600, -32601, -32602, -32603)


def rpc(method: str, params: Any, id: Any = 1) -> dict:
    """A JSON-RPC request document; `id=None` makes it a notification. The id comes before the params,
    so a body cut short at its end still tells requests apart (the load test's unreadable messages)."""
    doc: dict = {"jsonrpc": "2.0"}
    if id is not None:
        doc["id"] = id
    doc.update(method=method, params=params)
    return doc


def post(mock, route: str, body: Any, token: bool = True, headers: dict | None = None) -> requests.Response:
    """POST anything (dict, list, str, bytes, generator) to a mock route and return the raw answer."""
    sent = {"Content-Type": "application/json"}
    if token:
        sent["Authorization"] = f"Bearer {mock.client.token()}"
    sent.update(headers or {})
    data = body if isinstance(body, (bytes, str)) or hasattr(body, "__next__") else json.dumps(body)
    return requests.post(mock.url + route, data=data, headers=sent, timeout=30)


def rpc_error(response: requests.Response, code: int | None = None, remote_failed: bool = False) -> dict:
    """The JSON-RPC error object of a refusal, after checking the envelope is well formed.
    Only a remote's failure on a synchronous call may be a 5xx (502, the bus as a gateway)."""
    assert response.status_code == 502 if remote_failed else response.status_code < 500, response.text[:500]
    assert response.headers["content-type"].startswith("application/json"), response.headers
    doc = response.json()
    assert doc["jsonrpc"] == "2.0"
    assert "error" in doc and "result" not in doc, doc
    error = doc["error"]
    assert isinstance(error["code"], int) and isinstance(error["message"], str) and error["message"].strip()
    if code is not None:
        assert error["code"] == code, doc
    return error


def conformance_problem(doc, status: int) -> str | None:
    """None when `doc` is a JSON-RPC 2.0 response fit for `status`; else what is wrong."""
    if not isinstance(doc, dict):
        return f"the answer is not an object: {str(doc)[:200]}"
    if doc.get("jsonrpc") != "2.0":
        return "jsonrpc is not '2.0'"
    if "id" not in doc:
        return "no id member"
    if ("result" in doc) == ("error" in doc):
        return "result and error must be exactly one of the two"
    if "result" in doc:
        return None if 200 <= status < 300 else f"a result with HTTP {status}"
    error = doc["error"]
    if not isinstance(error, dict):
        return f"error is not an object: {error!r}"
    code = error.get("code")
    if not isinstance(code, int) or isinstance(code, bool) or not (code in STANDARD_CODES or code in SERVER_CODES):
        return f"error code {code!r} is outside the JSON-RPC ranges"
    if not isinstance(error.get("message"), str) or not error["message"].strip():
        return "error message is not a non-empty string"
    data = error.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        return f"error data has no path: {str(data)[:200]}"
    if 200 <= status < 300:
        return f"an error with HTTP {status}"
    return None
