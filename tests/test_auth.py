"""OAuth 2.0 client credentials on /oauth/token, and bearer tokens on the bus's routes."""

from __future__ import annotations

import base64
import socket

import pytest
import requests

from momlab import MomClient
from momlab.bus.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from momlab.topics import REGISTER, UNREGISTER
from tests.support.mocks import wait_for
from tests.support.rpc import RPC_ROUTES, post, rpc, rpc_error

GOOD = {"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}


def _token_works(mock, token: str) -> bool:
    answer = post(mock, "/api", rpc("magento.inventory.source_repository.search", {}), token=False,
                  headers={"Authorization": f"Bearer {token}"})
    return answer.status_code == 200


def _check_issued(mock, answer) -> str:
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["token_type"] == "Bearer"
    assert doc["expires_in"] == 3600
    assert answer.headers["Cache-Control"] == "no-store"
    assert _token_works(mock, doc["access_token"])
    return doc["access_token"]


def test_token_with_a_form_body(mock):
    _check_issued(mock, requests.post(mock.url + "/oauth/token", data=GOOD, timeout=5))


def test_token_with_a_json_body(mock):
    _check_issued(mock, requests.post(mock.url + "/oauth/token", json=GOOD, timeout=5))


def test_token_with_http_basic(mock):
    answer = requests.post(mock.url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), timeout=5)
    _check_issued(mock, answer)


def test_each_token_is_new(mock):
    first = requests.post(mock.url + "/oauth/token", data=GOOD, timeout=5).json()["access_token"]
    second = requests.post(mock.url + "/oauth/token", data=GOOD, timeout=5).json()["access_token"]
    assert first != second and len(first) >= 20


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {**GOOD, "client_secret": "wrong"}},
        {"data": {**GOOD, "client_id": "someone"}},
        {"json": {**GOOD, "client_secret": "wrong"}},
        {"data": {"grant_type": "client_credentials"}, "auth": (DEMO_CLIENT_ID, "wrong")},
    ],
)
def test_wrong_credentials_are_invalid_client(mock, kwargs):
    answer = requests.post(mock.url + "/oauth/token", timeout=5, **kwargs)
    assert answer.status_code == 401
    doc = answer.json()
    assert doc["error"] == "invalid_client"
    assert "client_secret" in doc["error_description"]
    assert "access_token" not in doc


def test_wrong_grant_type(mock):
    answer = requests.post(mock.url + "/oauth/token", data={**GOOD, "grant_type": "password"}, timeout=5)
    assert answer.status_code == 400
    doc = answer.json()
    assert doc["error"] == "unsupported_grant_type"
    assert "client_credentials" in doc["error_description"]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"data": {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}}, "invalid_request"),
        ({"data": {"grant_type": "client_credentials"}}, "invalid_request"),
        ({"data": b"[1, 2]", "headers": {"Content-Type": "application/json"}}, "invalid_request"),
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, "invalid_request"),
        ({"data": {"grant_type": "client_credentials"}, "headers": {"Authorization": "Basic %%%"}}, "invalid_request"),
        ({"data": {"grant_type": "client_credentials"}, "headers": {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}}, "invalid_request"),
        ({"data": b'{"grant_type":"client_credentials","client_id":"\\ud800","client_secret":"x"}', "headers": {"Content-Type": "application/json"}}, "invalid_client"),
        ({"data": b"\xff\xfe" * 10}, "invalid_request"),
    ],
)
def test_malformed_token_requests_say_what_to_fix(mock, kwargs, error):
    answer = requests.post(mock.url + "/oauth/token", timeout=5, **kwargs)
    assert 400 <= answer.status_code < 500
    doc = answer.json()
    assert doc["error"] == error
    assert doc["error_description"].strip()


def test_token_body_over_the_limit(mock):
    answer = requests.post(mock.url + "/oauth/token", data=b"a" * (1024 * 1024 + 1), timeout=10)
    assert answer.status_code == 413
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize("route", RPC_ROUTES)
@pytest.mark.parametrize(
    "authorization, words",
    [(None, "No Authorization header"), ("Bearer not-a-token", "Unknown bearer token"),
     ("Basic abc", "must be 'Bearer <token>'"), ("Bearer ", "must be 'Bearer <token>'")],
)
def test_bus_routes_need_a_token(mock, route, authorization, words):
    headers = {"Authorization": authorization} if authorization else {}
    answer = post(mock, route, rpc(REGISTER, {"id": "sneaky", "url": "http://127.0.0.1:9/x"}), token=False, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    error = rpc_error(answer, -32001)
    assert words in error["message"] and "/oauth/token" in error["message"]
    assert error["data"]["path"] == "headers.Authorization"
    assert mock.client.state("remotes") == []


def test_a_notification_without_token_still_gets_the_401(mock):
    answer = post(mock, "/api", rpc(UNREGISTER, {"id": "x"}, id=None), token=False)
    assert answer.status_code == 401
    rpc_error(answer, -32001)


def test_expired_token_is_refused(start_mock):
    mock = start_mock(token_ttl=0.2)
    token = requests.post(mock.url + "/oauth/token", data=GOOD, timeout=5).json()["access_token"]
    assert _token_works(mock, token)

    def refused():
        answer = post(mock, "/api", rpc(UNREGISTER, {"id": "x"}), token=False, headers={"Authorization": f"Bearer {token}"})
        return [answer] if answer.status_code == 401 else None  # a 4xx Response is falsy

    (answer,) = wait_for(refused, what="the token to expire")
    error = rpc_error(answer, -32001)
    assert "expired" in error["message"]
    # the client notices and fetches a new token by itself
    assert mock.client.call("magento.inventory.source_repository.search", {})["total"] == 3


def test_tokens_of_another_mock_are_unknown(start_mock):
    first, second = start_mock(), start_mock()
    assert not _token_works(second, first.client.token())


def test_custom_credentials(start_mock):
    mock = start_mock(client_id="acme", client_secret="hunter2")
    assert requests.post(mock.url + "/oauth/token", data=GOOD, timeout=5).status_code == 401
    client = MomClient(mock.url, "acme", "hunter2")
    assert client.call("magento.inventory.source_repository.search", {})["total"] == 3


def test_a_client_whose_mock_is_gone_says_what_to_do(start_mock):
    mock = start_mock()
    client = MomClient(mock.url)
    assert client.call("magento.inventory.source_repository.search", {})["total"] == 3
    mock.stop()
    with pytest.raises(ConnectionError, match=r"could not reach the mock at .*set-up cell"):
        client.call("magento.inventory.source_repository.search", {})


def test_a_client_whose_mock_does_not_answer_says_it_timed_out():
    silent = socket.create_server(("127.0.0.1", 0))  # connections are taken, never answered
    try:
        client = MomClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.3, auth=False)
        with pytest.raises(TimeoutError, match=r"did not answer within 0.3 s; run the cell again"):
            client.call("magento.inventory.source_repository.search", {})
    finally:
        silent.close()


def test_auth_off_needs_no_token(start_mock):
    mock = start_mock(auth=False)
    for route in RPC_ROUTES:
        answer = post(mock, route, rpc("magento.inventory.source_repository.search", {}), token=False)
        assert answer.status_code != 401, route
    answer = post(mock, "/api", rpc(REGISTER, {"id": "open", "url": "http://127.0.0.1:9/x"}), token=False)
    assert answer.status_code == 200 and answer.json()["result"]["id"] == "open"
    assert requests.get(mock.url + "/health", timeout=5).json()["auth"] is False


def test_get_views_need_no_token(mock):
    for path in ("/", "/journal", "/state/orders", "/state/remotes", "/catalog", f"/catalog/{REGISTER}", "/health"):
        answer = requests.get(mock.url + path, timeout=5)
        assert answer.status_code == 200, path


def test_manual_retry_needs_a_token(mock):
    answer = requests.post(mock.url + "/journal/1/retry", timeout=5)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization" in answer.json()["error"]["message"]
