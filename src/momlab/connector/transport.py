"""How the connector talks to the bus: OAuth 2.0 client credentials, then JSON-RPC 2.0 over HTTP.

It uses the `serviceBus` settings of env.php: a token from `oauth_server_url` with `oauth_client_id`
and `oauth_client_secret`, then requests to `url`. The paths appended to those base URLs
(`oauth/token`, `api`, `delegate/oms`, `events`) are the mock servers' [mock]; production MIB's are
not public (mom-reference.md 1.4).

It keeps one HTTP/1.1 connection open per address and thread (momlab.bus.httppost): a full catalog
export sends thousands of messages, and reusing the connection makes that several times faster.
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from momlab.bus import httppost, jsonrpc
from momlab.bus.auth import TokenCache
from momlab.bus.jsonrpc import RpcError


class BusUnavailable(Exception):
    """The bus could not be reached, or answered with something that is not JSON-RPC."""


class BusRefused(RpcError):
    """The bus answered with a JSON-RPC error (`code`, `message`, `data`, `http_status`), worded for the Message Log."""

    def __str__(self) -> str:
        where = f" (at {self.path})" if self.path else ""
        return f"the bus refused it with error {self.code}: {self.message}{where}"


class Transport:
    def __init__(self, url: str, oauth_server_url: str, client_id: str, client_secret: str, timeout: float = 10.0):
        self.url = url
        self.oauth_server_url = oauth_server_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self._tokens = TokenCache(self._fetch_token)
        self._ids = itertools.count(1)

    # -- OAuth ------------------------------------------------------------------------------------
    def token(self, refresh: bool = False) -> str:
        return self._tokens.get(refresh)

    def _fetch_token(self) -> tuple[str, float]:
        body = urlencode({"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret})
        status, text = self._post(_join(self.oauth_server_url, "oauth/token"), body.encode(),
                                  {"Content-Type": "application/x-www-form-urlencoded"})
        doc = _json(text)
        if status != 200 or not isinstance(doc, dict) or "access_token" not in doc:
            said = doc.get("error_description") if isinstance(doc, dict) else None
            raise BusUnavailable(
                f"no OAuth token from {self.oauth_server_url} (HTTP {status}): {said or text[:200]}. "
                "Check serviceBus.oauth_server_url, oauth_client_id and oauth_client_secret in env.php."
            )
        return doc["access_token"], float(doc.get("expires_in", 3600))

    # -- JSON-RPC -----------------------------------------------------------------------------------
    def call(self, method: str, params: dict, route: str = "api") -> Any:
        """Send one request and return its result; BusRefused / BusUnavailable otherwise."""
        body = json.dumps(jsonrpc.request(method, params, next(self._ids))).encode()
        target = _join(self.url, route)
        status, text = self._post(target, body, {"Content-Type": "application/json", "Authorization": f"Bearer {self.token()}"})
        if status == 401 and "expired" in text:
            status, text = self._post(target, body, {"Content-Type": "application/json", "Authorization": f"Bearer {self.token(refresh=True)}"})
        doc = _json(text)
        if not isinstance(doc, dict):
            raise BusUnavailable(f"{target} answered HTTP {status} with something that is not JSON-RPC: {text[:200]!r}")
        if isinstance(doc.get("error"), dict):
            raise BusRefused.from_object(doc["error"], status)
        if "result" not in doc:
            raise BusUnavailable(f"{target} answered HTTP {status} without a result: {text[:200]!r}")
        return doc["result"]

    # -- HTTP -------------------------------------------------------------------------------------
    def _post(self, url: str, body: bytes, headers: dict) -> tuple[int, str]:
        try:
            answer = httppost.post(url, body, headers, self.timeout)
        except (OSError, ValueError) as exc:  # ValueError: not an http(s) url
            parts = urlsplit(url)
            raise BusUnavailable(f"could not reach {parts.scheme}://{parts.netloc}: {_reason(exc)}. "
                                 "Check serviceBus.url in env.php and that the bus is running.") from None
        return answer.status, answer.text

    def close(self) -> None:
        """Close this thread's kept-alive connections (shared with other clients in the thread: they reopen theirs)."""
        httppost.close_all()


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def _json(text: str):
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower() or "Errno 111" in text:
        return "connection refused"
    return text.splitlines()[0][:200]
