"""OAuth 2.0 client credentials (RFC 6749 section 4.4) for calls into the bus.

Tokens live in the store, so they survive a restart, and in a small in-memory cache, so checking
one costs a dictionary look-up on the hot path.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from momlab.bus.config import Config
from momlab.bus.jsonrpc import UNAUTHORIZED, Doc, RpcError
from momlab.bus.store import Store

CHALLENGE = {"WWW-Authenticate": "Bearer"}  # RFC 6750 section 3: a 401 names the scheme it expects


class OAuthError(Exception):
    """An RFC 6749 error: `error` is the standard code, `description` says what to fix."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def to_object(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class TokenIssuer:
    def __init__(self, store: Store, config: Config):
        self.store = store
        self.config = config
        self._cache: dict[str, float] = {}

    def issue(self, body: bytes, content_type: str, authorization: str | None) -> Doc:
        fields = _read_fields(body, content_type)
        client_id, client_secret = fields.get("client_id"), fields.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            client_id, client_secret = _basic_credentials(authorization)
        grant = fields.get("grant_type")
        if grant is None:
            raise OAuthError("invalid_request", "Send grant_type=client_credentials with client_id and client_secret.")
        if grant != "client_credentials":
            raise OAuthError(
                "unsupported_grant_type",
                f"grant_type {grant!r} is not supported; the bus issues tokens for grant_type=client_credentials only.",
            )
        if not client_id or not client_secret:
            raise OAuthError(
                "invalid_request",
                "client_id and client_secret are required (form fields, a JSON body, or HTTP Basic auth).",
            )
        # surrogatepass: a JSON body may carry a lone "\\ud800", which must fail the check, not the server
        id_ok = hmac.compare_digest(client_id.encode("utf-8", "surrogatepass"), self.config.client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode("utf-8", "surrogatepass"), self.config.client_secret.encode())
        if not (id_ok and secret_ok):
            raise OAuthError(
                "invalid_client",
                "Unknown client_id or wrong client_secret. The mock's demo credentials are "
                f"client_id={self.config.client_id!r}, client_secret={self.config.client_secret!r}.",
                status=401,
            )
        token = secrets.token_urlsafe(24)
        expires_at = time.time() + self.config.token_ttl
        with self.store.transaction() as db:
            db.execute("DELETE FROM tokens WHERE expires_at < ?", (time.time(),))
            db.execute("INSERT INTO tokens VALUES (?, ?, ?)", (token, client_id, expires_at))
        self._cache[token] = expires_at
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(self.config.token_ttl)}

    def problem(self, authorization: str | None) -> str | None:
        """None when the bearer token is valid, else a sentence saying what to fix."""
        if not authorization:
            return "No Authorization header. Get a token from POST /oauth/token and send 'Authorization: Bearer <token>'."
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "The Authorization header must be 'Bearer <token>', with a token from POST /oauth/token."
        token = token.strip()
        expires_at = self._cache.get(token)
        if expires_at is None:
            rows = self.store.query("SELECT expires_at FROM tokens WHERE token = ?", (token,))
            if not rows:
                return "Unknown bearer token. Get a new one from POST /oauth/token."
            expires_at = self._cache[token] = rows[0]["expires_at"]
        if expires_at < time.time():
            return "The bearer token has expired. Get a new one from POST /oauth/token."
        return None


def unauthorized(problem: str) -> RpcError:
    """The bus's refusal of a request without a valid bearer token: HTTP 401, sent with CHALLENGE."""
    return RpcError(UNAUTHORIZED, problem, {"path": "headers.Authorization"})


def _read_fields(body: bytes, content_type: str) -> dict[str, str]:
    import json

    text = body.decode("utf-8", "replace")
    if "json" in (content_type or ""):
        try:
            doc = json.loads(text or "{}")
        except ValueError:
            raise OAuthError("invalid_request", "The body is not valid JSON.") from None
        if not isinstance(doc, dict):
            raise OAuthError("invalid_request", "The JSON body must be an object of fields.")
        return {k: v for k, v in doc.items() if isinstance(v, str)}
    return {k: v[0] for k, v in parse_qs(text).items()}


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise OAuthError("invalid_request", "The Basic Authorization header is not valid base64 of 'id:secret'.") from None
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_request", "The Basic Authorization header must encode 'client_id:client_secret'.")
    return client_id, client_secret


class TokenCache:
    """The client side of the grant: one bearer token, kept until 30 s before it expires, then fetched again.
    `fetch()` asks the token endpoint and returns the token and its lifetime in seconds. Thread-safe."""

    def __init__(self, fetch: Callable[[], tuple[str, float]]):
        self._fetch = fetch
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self, refresh: bool = False) -> str:
        with self._lock:
            if refresh or self._token is None or time.time() > self._expires - 30:
                token, lifetime = self._fetch()
                self._token, self._expires = token, time.time() + lifetime
            return self._token
