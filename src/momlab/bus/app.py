"""The HTTP face of the bus (Starlette). Routes stay thin: read, hand to the bus or a view, answer."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from momlab.bus import journal as journal_table
from momlab.bus import jsonrpc, jsontext, statuspage_http, views
from momlab.bus import sales_channels as admin
from momlab.bus.auth import OAuthError
from momlab.bus.bodies import read_capped, read_json
from momlab.bus.delivery import Deliverer
from momlab.bus.dispatch import Bus, Plan, Reply
from momlab.bus.edge import require_token, rpc_error_response
from momlab.bus.jsonrpc import RpcError

log = logging.getLogger("momlab")


def create_app(bus: Bus, deliverer: Deliverer) -> Starlette:
    async def token(request: Request) -> Response:
        body = await read_capped(request)
        if body is None:
            return JSONResponse(OAuthError("invalid_request", "The body is over 1 MiB.").to_object(), 413)
        try:
            answer = bus.tokens.issue(body, request.headers.get("content-type", ""), request.headers.get("authorization"))
        except OAuthError as error:
            return JSONResponse(error.to_object(), error.status)
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    def rpc(route: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            service = request.path_params.get("service")
            body = await read_capped(request)
            outcome: Plan | Reply
            try:
                if body is None:
                    outcome = bus.refuse_unread(route, service, request.headers.get("authorization"))
                else:
                    outcome = bus.prepare(route, service, body, request.headers.get("authorization"))
                if isinstance(outcome, Plan):
                    outcome = await run_in_threadpool(bus.execute, outcome) if outcome.blocking else bus.execute(outcome)
            except Exception:  # a bug of ours: say so in JSON-RPC terms, never as an HTML 500 page
                log.error("momlab: internal error\n%s", traceback.format_exc())
                error = jsonrpc.RpcError(jsonrpc.INTERNAL_ERROR, "The mock hit an internal error; the message was not processed. Please report it with the request.")
                return JSONResponse(jsonrpc.failure(None, error), 500)
            return _reply(outcome)

        return endpoint

    async def journal(request: Request) -> Response:
        try:
            rows = views.journal(bus.store, request.query_params)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(rows)

    async def retry(request: Request) -> Response:
        require_token(request)
        try:
            row = journal_table.retry(bus.store, request.path_params["journal_id"])
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, 404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 409)
        deliverer.wake()
        return JSONResponse(row)

    async def admin_sales_channels(request: Request) -> Response:
        """Stand-in for OMS Admin > System > Stock aggregates and Sales channels (see momlab.bus.sales_channels)."""
        require_token(request)
        return JSONResponse(admin.save_sales_channel(bus.store, await read_json(request)))

    async def state(request: Request) -> Response:
        try:
            return JSONResponse(views.state(bus.store, request.path_params["view"], request.query_params))
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, 404)

    async def catalog_view(request: Request) -> Response:
        try:
            return JSONResponse(views.catalog_entry(request.path_params.get("method")))
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, 404)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "auth": bus.config.auth, "hosted": bus.config.hosted, "pending_deliveries": deliverer.pending()})

    async def page(request: Request) -> Response:
        return HTMLResponse(views.JOURNAL_PAGE, headers={"Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'; img-src 'self' data:"})

    async def not_found(request: Request, exc: HTTPException) -> Response:
        where = f"{request.method} is not allowed on {request.url.path}" if exc.status_code == 405 else f"No route {request.url.path}"
        error = RpcError(jsonrpc.INVALID_REQUEST, f"{where}. Routes: {listed}.", {"path": request.url.path})
        return JSONResponse(jsonrpc.failure(None, error), exc.status_code)

    routes = [
        Route("/oauth/token", token, methods=["POST"]),
        Route("/api", rpc("api"), methods=["POST"]),
        Route("/api/", rpc("api"), methods=["POST"]),
        Route("/remote/{service}", rpc("remote"), methods=["POST"]),
        Route("/delegate/{service}", rpc("delegate"), methods=["POST"]),
        Route("/events", rpc("events"), methods=["POST"]),
        Route("/journal", journal, methods=["GET"]),
        Route("/journal/{journal_id:int}/retry", retry, methods=["POST"]),
        Route("/state/{view}", state, methods=["GET"]),
        Route("/admin/sales_channels", admin_sales_channels, methods=["POST"]),
        Route("/catalog", catalog_view, methods=["GET"]),
        Route("/catalog/{method}", catalog_view, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/", page, methods=["GET"]),
        *statuspage_http.routes(bus),  # the mock's status page and incident feed (momlab/bus/statuspage.py)
    ]
    listed = routes_help(routes)
    handlers = {HTTPException: not_found, RpcError: rpc_error_response}
    app = Starlette(routes=routes, exception_handlers=handlers)  # type: ignore[arg-type]  # Starlette types handlers for Exception; each gets its own class
    app.state.bus = bus  # for momlab.bus.edge.require_token
    return app


def routes_help(routes: list[Route]) -> str:
    """Every route as "METHOD /path", in the order of the table, for the answer to a request that matches none."""
    return ", ".join(f"{method} {route.path}" for route in routes for method in sorted((route.methods or set()) - {"HEAD"}))


class _FastJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return jsontext.dumps_bytes(content)


def _reply(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status, headers=reply.headers)
    return _FastJSON(reply.body, reply.status, headers=reply.headers)
