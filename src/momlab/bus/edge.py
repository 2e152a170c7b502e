"""What the bus's HTTP routes share beyond JSON-RPC: the bearer-token check and `RpcError` as a response.

A route that needs a token calls `require_token(request)`; a route that fails raises `RpcError`, and
`rpc_error_response` (the app's exception handler for it) answers with the JSON-RPC error envelope.
A 401 is the same everywhere, the one `Bus.prepare` gives the JSON-RPC routes: the envelope with
code -32001, data.path "headers.Authorization", and `WWW-Authenticate: Bearer`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from momlab.bus import jsonrpc
from momlab.bus.auth import CHALLENGE, unauthorized
from momlab.bus.jsonrpc import RpcError


def require_token(request: Request) -> None:
    """Raise the bus's 401 unless the request carries a valid bearer token (or the mock runs without auth).
    The app keeps its bus in `app.state.bus` (momlab.bus.app.create_app)."""
    bus = request.app.state.bus
    if bus.config.auth and (problem := bus.tokens.problem(request.headers.get("authorization"))):
        raise unauthorized(problem)


async def rpc_error_response(request: Request, error: RpcError) -> Response:
    headers = CHALLENGE if error.code == jsonrpc.UNAUTHORIZED else None
    return JSONResponse(jsonrpc.failure(error.request_id, error), error.http_status, headers=headers)
