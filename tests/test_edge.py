"""The bus's HTTP edge speaks one JSON-RPC vocabulary: one 401 for every route that needs a token,
RpcError answered as an error envelope, the route list in a 404, and one client call that decodes errors."""

from __future__ import annotations

import re

import pytest
import requests
from starlette.routing import Route

from momlab.bus import jsonrpc
from momlab.bus.app import create_app
from momlab.client import MomClient, MomError

NEEDS_TOKEN = {
    ("POST", "/api"), ("POST", "/api/"), ("POST", "/remote/oms"), ("POST", "/delegate/oms"), ("POST", "/events"),
    ("POST", "/journal/1/retry"), ("POST", "/admin/sales_channels"), ("POST", "/status/incidents"),
    ("POST", "/status/incidents/1/updates"), ("POST", "/status/subscriptions"), ("DELETE", "/status/subscriptions/1"),
}


def _every_route(mock) -> list[tuple[str, str]]:
    """(method, path) of every route of the mock's app, with its path parameters filled in."""
    found = []
    for route in create_app(mock.bus, mock.deliverer).routes:
        assert isinstance(route, Route)
        path = re.sub(r"\{\w+\}", "oms", re.sub(r"\{(\w+):int\}", "1", route.path))
        found.extend((method, path) for method in sorted(route.methods - {"HEAD"}))
    return found


@pytest.mark.parametrize("authorization", [None, "Bearer made-up", "Basic bW9tbGFiOm1vbWxhYi1zZWNyZXQ="])
def test_every_route_that_needs_a_token_refuses_with_the_same_401(mock, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    body = jsonrpc.request("magento.inventory.source_repository.search", {}, 7)
    refused = {}
    for method, path in _every_route(mock):
        answer = requests.request(method, mock.url + path, json=body, headers=headers, timeout=10)
        if answer.status_code == 401:
            refused[(method, path)] = (answer.json(), answer.headers.get("WWW-Authenticate"))
    assert set(refused) == NEEDS_TOKEN
    bus_answer = refused[("POST", "/api")]
    error = bus_answer[0]["error"]
    assert bus_answer[0] == {"jsonrpc": "2.0", "id": None, "error": error}
    assert error["code"] == jsonrpc.UNAUTHORIZED and error["data"] == {"path": "headers.Authorization"} and error["message"]
    assert bus_answer[1] == "Bearer"
    assert {route: answer for route, answer in refused.items() if answer != bus_answer} == {}


def test_a_route_that_fails_answers_with_a_json_rpc_error_envelope(mock):
    headers = {"Authorization": f"Bearer {mock.client.token()}", "Content-Type": "application/json"}
    answer = requests.post(mock.url + "/admin/sales_channels", data=b"{not json", headers=headers, timeout=10)
    assert answer.status_code == 400
    doc = answer.json()
    assert doc["jsonrpc"] == "2.0" and doc["id"] is None and doc["error"]["code"] == jsonrpc.PARSE_ERROR
    assert "WWW-Authenticate" not in answer.headers


def test_an_unknown_route_lists_every_route(mock):
    answer = requests.get(mock.url + "/nowhere", timeout=10)
    assert answer.status_code == 404
    message = answer.json()["error"]["message"]
    for route in create_app(mock.bus, mock.deliverer).routes:
        for method in route.methods - {"HEAD"}:
            assert f"{method} {route.path}" in message


def test_client_request_returns_the_answer_and_raises_the_error_it_carries(mock):
    opened = mock.client.request("POST", "/status/incidents", json={"title": "Order export delayed"}, token=True)
    assert opened["title"] == "Order export delayed"
    assert mock.client.request("GET", f"/status/incidents/{opened['id']}")["id"] == opened["id"]
    with pytest.raises(MomError) as refused:
        mock.client.request("POST", "/status/incidents", json={"title": "no token"})
    assert refused.value.code == jsonrpc.UNAUTHORIZED and refused.value.http_status == 401
    with pytest.raises(MomError) as missing:
        mock.client.request("GET", "/status/incidents/999999")
    assert missing.value.code == jsonrpc.UNKNOWN_ENTITY and missing.value.http_status == 404
    with pytest.raises(MomError) as unexpected:
        mock.client.request("GET", "/state/no-such-view")  # a 404 that is not a JSON-RPC error
    assert unexpected.value.code == jsonrpc.INTERNAL_ERROR and unexpected.value.http_status == 404


def test_client_retry_without_a_token_raises_the_bus_401(mock):
    with pytest.raises(MomError) as refused:
        MomClient(mock.url, auth=False).retry(1)
    assert refused.value.code == jsonrpc.UNAUTHORIZED and refused.value.http_status == 401


def test_bytes_that_are_not_http_get_a_400_and_print_nothing(caplog):
    import socket

    from starlette.applications import Starlette

    from momlab.bus.server import ServerThread

    server = ServerThread(Starlette()).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as probe:
            probe.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n")
            answer = probe.recv(200)
        assert answer.startswith(b"HTTP/1.1 400")
    finally:
        server.stop()
    assert not [r for r in caplog.records if "Invalid HTTP request" in r.getMessage()]
