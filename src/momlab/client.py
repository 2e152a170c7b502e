"""A small client for the bus: it gets and renews OAuth tokens and turns JSON-RPC errors into MomError.

    client = MomClient("http://127.0.0.1:8765")
    client.call("magento.service_bus.remote.register", {"id": "wms", "url": "http://..."})
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import requests

from momlab.bus.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from momlab.bus.jsonrpc import RpcError

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
        self._token: str | None = None
        self._token_expires = 0.0
        self._ids = itertools.count(1)
        self.session = requests.Session()
        self.session.trust_env = False  # proxy settings must not capture calls to a local mock

    # -- tokens ---------------------------------------------------------------------------------
    def token(self, refresh: bool = False) -> str:
        """A valid bearer token, fetched with the client credentials when needed."""
        if refresh or self._token is None or time.time() > self._token_expires - 30:
            answer = self.session.post(
                f"{self.url}/oauth/token",
                data={"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret},
                timeout=self.timeout,
            )
            doc = _json(answer)
            if answer.status_code != 200:
                raise MomError(-32001, f"Could not get a token: {doc.get('error_description') or answer.text}", {}, http_status=answer.status_code)
            self._token = doc["access_token"]
            self._token_expires = time.time() + float(doc.get("expires_in", 3600))
        return self._token

    # -- messages -------------------------------------------------------------------------------
    def call(self, method: str, params: dict, route: str = "api", service: str = "oms", id: Any = None) -> Any:
        """Send a request and return its `result`; raise MomError with the bus's error otherwise."""
        request_id = next(self._ids) if id is None else id
        doc = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        answer = self.send(doc, route=route, service=service)
        body = _json(answer)
        if "error" in body:
            error = body["error"]
            raise MomError.from_object(error, answer.status_code)
        if answer.status_code != 200 or "result" not in body:
            raise MomError(-32603, f"Unexpected answer from the bus: HTTP {answer.status_code} {answer.text[:200]}", {}, http_status=answer.status_code)
        return body["result"]

    def notify(self, method: str, params: dict, route: str = "api", service: str = "oms") -> requests.Response:
        """Send a notification (no id): the bus answers with an empty 2xx and nothing else."""
        return self.send({"jsonrpc": "2.0", "method": method, "params": params}, route=route, service=service)

    def send(self, body: Any, route: str = "api", service: str = "oms", token: bool = True) -> requests.Response:
        """POST anything (a dict, a list, raw bytes or text) to a bus route and return the raw HTTP
        response: for seeing exactly what the bus answers to a malformed message."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of {', '.join(ROUTES)}, got {route!r}.")
        target = f"{self.url}/{route}" + (f"/{service}" if route in ("remote", "delegate") else "")
        headers = {"Content-Type": "application/json"}
        if token and self.auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        answer = self.session.post(target, data=data, headers=headers, timeout=self.timeout)
        if answer.status_code == 401 and token and self.auth and "expired" in answer.text:
            headers["Authorization"] = f"Bearer {self.token(refresh=True)}"
            answer = self.session.post(target, data=data, headers=headers, timeout=self.timeout)
        return answer

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
        headers = {"Authorization": f"Bearer {self.token()}"} if self.auth else {}
        answer = self.session.post(f"{self.url}/journal/{journal_id}/retry", headers=headers, timeout=self.timeout)
        if answer.status_code != 200:
            raise ValueError(_json(answer).get("error", answer.text))
        return answer.json()


def _json(answer: requests.Response) -> dict:
    try:
        doc = answer.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
