"""A small client for the bus: it gets and renews OAuth tokens and turns JSON-RPC errors into MomError.

    client = MomClient("http://127.0.0.1:8765")
    client.call("magento.service_bus.remote.register", {"id": "wms", "url": "http://..."})
"""

from __future__ import annotations

import itertools
import json as jsonlib
from typing import Any

import requests

from momlab.bus import httppost, jsonrpc
from momlab.bus.auth import TokenCache
from momlab.bus.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from momlab.bus.jsonrpc import INTERNAL_ERROR, RpcError

ROUTES = ("api", "remote", "delegate", "events")


# The bus raises and this client receives the same JSON-RPC error: one class for both.
MomError = RpcError


class MomClient:
    def __init__(
        self,
        url: str,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        timeout: float = 10.0,
        auth: bool = True,
    ):
        self.url = url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.auth = auth
        self._tokens = TokenCache(self._fetch_token)
        self._ids = itertools.count(1)
        self.session = requests.Session()
        self.session.trust_env = False  # proxy settings must not capture calls to a local mock

    # -- tokens ---------------------------------------------------------------------------------
    def token(self, refresh: bool = False) -> str:
        """A valid bearer token, fetched with the client credentials when needed."""
        return self._tokens.get(refresh)

    def _fetch_token(self) -> tuple[str, float]:
        answer = self.session.post(
            f"{self.url}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret},
            timeout=self.timeout,
        )
        doc = _json(answer)
        if answer.status_code != 200:
            raise MomError(-32001, f"Could not get a token: {doc.get('error_description') or answer.text}", {}, http_status=answer.status_code)
        return doc["access_token"], float(doc.get("expires_in", 3600))

    # -- messages -------------------------------------------------------------------------------
    def call(self, method: str, params: dict, route: str = "api", service: str = "oms", id: Any = None) -> Any:
        """Send a request and return its `result`; raise MomError with the bus's error otherwise."""
        request_id = next(self._ids) if id is None else id
        status, text = self._post(_path(route, service), jsonlib.dumps(jsonrpc.request(method, params, request_id)).encode())
        try:
            body = jsonlib.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise MomError.from_object(body["error"], status)
        if status != 200 or not isinstance(body, dict) or "result" not in body:
            raise _unexpected(status, text)
        return body["result"]

    def notify(self, method: str, params: dict, route: str = "api", service: str = "oms") -> requests.Response:
        """Send a notification (no id): the bus answers with an empty 2xx and nothing else."""
        return self.send(jsonrpc.request(method, params), route=route, service=service)

    def send(self, body: Any, route: str = "api", service: str = "oms", token: bool = True) -> requests.Response:
        """POST anything (a dict, a list, raw bytes or text) to a bus route and return the raw HTTP
        response: for seeing exactly what the bus answers to a malformed message."""
        data = body if isinstance(body, (bytes, str)) else jsonlib.dumps(body)
        return self._http("POST", _path(route, service), token, data=data, headers={"Content-Type": "application/json"})

    def request(self, verb: str, path: str, json: Any = None, token: bool = False) -> Any:
        """Call one of the mock's other JSON routes (e.g. POST /status/incidents) and return the decoded
        answer; raise MomError with the error it carries, or for any answer that is not a 2xx."""
        return _decoded(self._http(verb, path, token, json=json))

    def _http(self, verb: str, path: str, token: bool, headers: dict | None = None, **body) -> requests.Response:
        """One HTTP call, with a bearer token when `token` (fetched again once if the bus says it expired)."""
        headers = dict(headers or {})
        if token and self.auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        answer = self.session.request(verb, f"{self.url}{path}", headers=headers, timeout=self.timeout, **body)
        if answer.status_code == 401 and token and self.auth and "expired" in answer.text:
            headers["Authorization"] = f"Bearer {self.token(refresh=True)}"
            answer = self.session.request(verb, f"{self.url}{path}", headers=headers, timeout=self.timeout, **body)
        return answer

    def _post(self, path: str, data: bytes) -> tuple[int, str]:
        """call()'s POST, over a kept-alive connection (momlab.bus.httppost): a lab makes hundreds of calls,
        and requests costs several times more CPU for each. Same token handling as _http."""
        headers = {"Content-Type": "application/json"}
        for refresh in (False, True):
            if self.auth:
                headers["Authorization"] = f"Bearer {self.token(refresh)}"
            try:
                answer = httppost.post(f"{self.url}{path}", data, headers, self.timeout)
            except TimeoutError:  # the mock is there but busy: starting it again would not help
                raise TimeoutError(f"the mock at {self.url} did not answer within {self.timeout:g} s; run the cell again "
                                   "(a busy machine), or give MomClient a longer timeout") from None
            except OSError as exc:
                raise ConnectionError(f"could not reach the mock at {self.url} ({exc or type(exc).__name__}): is it still "
                                      "running? Run the notebook's set-up cell again (momlab.start()).") from None
            if not (answer.status == 401 and self.auth and "expired" in answer.text):
                break
        return answer.status, answer.text

    # -- views ----------------------------------------------------------------------------------
    def journal(self, **filters) -> list[dict]:
        answer = self.session.get(f"{self.url}/journal", params={k: v for k, v in filters.items() if v is not None}, timeout=self.timeout)
        answer.raise_for_status()
        return answer.json()

    def state(self, view: str, **query) -> Any:
        answer = self.session.get(f"{self.url}/state/{view}", params=query, timeout=self.timeout)
        if answer.status_code != 200:
            raise LookupError(_json(answer).get("error", answer.text))
        return answer.json()

    def retry(self, journal_id: int) -> dict:
        """Send a failed delivery again."""
        answer = self._http("POST", f"/journal/{journal_id}/retry", token=True)
        if answer.status_code != 200:
            error = _json(answer).get("error", answer.text)
            raise MomError.from_object(error, answer.status_code) if isinstance(error, dict) else ValueError(error)
        return answer.json()


def _path(route: str, service: str) -> str:
    if route not in ROUTES:
        raise ValueError(f"route must be one of {', '.join(ROUTES)}, got {route!r}.")
    return f"/{route}" + (f"/{service}" if route in ("remote", "delegate") else "")


def _json(answer: requests.Response) -> dict:
    try:
        doc = answer.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _decoded(answer: requests.Response) -> Any:
    """The answer's JSON; MomError for the JSON-RPC error it carries, or when it is not a 2xx."""
    try:
        doc = answer.json()
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        raise MomError.from_object(doc["error"], answer.status_code)
    if not 200 <= answer.status_code < 300:
        raise _unexpected(answer.status_code, answer.text)
    return doc


def _unexpected(status: int, text: str) -> MomError:
    return MomError(INTERNAL_ERROR, f"Unexpected answer from the mock: HTTP {status} {text[:200]}", {}, http_status=status)
