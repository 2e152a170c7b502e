"""The HTTP face of the bus (Starlette). Routes stay thin: read, hand to the bus or a view, answer."""

from __future__ import annotations

import logging
import traceback

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from momlab.bus import jsonrpc, jsontext, statuspage, views
from momlab.bus import sales_channels as admin
from momlab.bus.auth import OAuthError
from momlab.bus.bodies import read_capped
from momlab.bus.dispatch import Bus, Plan, Reply

log = logging.getLogger("momlab")

ROUTES_HELP = (
    "POST /oauth/token, POST /api, POST /remote/{service}, POST /delegate/{service}, POST /events, "
    "GET /journal, GET /state/..., GET /catalog, GET /health, GET /, POST /admin/sales_channels, GET /status"
)


def create_app(bus: Bus, deliverer=None) -> Starlette:
    async def token(request: Request) -> Response:
        body = await read_capped(request)
        if body is None:
            return JSONResponse(OAuthError("invalid_request", "The body is over 1 MiB.").to_object(), 413)
        try:
            answer = bus.tokens.issue(body, request.headers.get("content-type", ""), request.headers.get("authorization"))
        except OAuthError as error:
            return JSONResponse(error.to_object(), error.status)
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    def rpc(route: str):
        async def endpoint(request: Request) -> Response:
            service = request.path_params.get("service")
            body = await read_capped(request)
            if body is None:
                body = b"x" * (jsonrpc.MAX_BODY_BYTES + 1)  # let the bus refuse and journal it
            try:
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
        problem = bus.tokens.check(request.headers.get("authorization")) if bus.config.auth else None
        if problem:
            return JSONResponse({"error": problem}, 401)
        try:
            row = views.retry(bus.store, request.path_params["journal_id"])
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, 404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 409)
        if deliverer is not None:
            deliverer.wake()
        return JSONResponse(row)

    async def admin_sales_channels(request: Request) -> Response:
        """Stand-in for OMS Admin > System > Stock aggregates and Sales channels (see momlab.bus.sales_channels)."""
        problem = bus.tokens.check(request.headers.get("authorization")) if bus.config.auth else None
        if problem:
            return JSONResponse({"error": {"code": jsonrpc.UNAUTHORIZED, "message": problem, "data": {"path": "headers.Authorization"}}}, 401)
        body = await read_capped(request)
        try:
            if body is None:
                raise jsonrpc.RpcError(jsonrpc.LIMIT_EXCEEDED, "The body is over 1 MiB.", {"path": "$"})
            return JSONResponse(admin.save_sales_channel(bus.store, jsonrpc.decode(body)))
        except jsonrpc.RpcError as error:
            return JSONResponse({"error": error.to_object()}, error.http_status)

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
        pending = deliverer.pending() if deliverer is not None else 0
        return JSONResponse({"status": "ok", "auth": bus.config.auth, "hosted": bus.config.hosted, "pending_deliveries": pending})

    async def page(request: Request) -> Response:
        return HTMLResponse(views.JOURNAL_PAGE, headers={"Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'"})

    async def not_found(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}. Routes: {ROUTES_HELP}."
        else:
            message = f"No route {request.url.path}. Routes: {ROUTES_HELP}."
        error = jsonrpc.RpcError(jsonrpc.INVALID_REQUEST, message, {"path": request.url.path})
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
        *statuspage.routes(bus),  # the mock's status page and incident feed (momlab/bus/statuspage.py)
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: not_found})


class _FastJSON(JSONResponse):
    def render(self, content) -> bytes:
        return jsontext.dumps_bytes(content)


def _reply(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status, headers=reply.headers)
    return _FastJSON(reply.body, reply.status, headers=reply.headers)
