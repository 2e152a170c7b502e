"""The status page's routes (the page itself is momlab.bus.statuspage), for momlab.bus.app.

    GET    /status                         the page (HTML)
    GET    /status/components              what the page reports on, and each one's state per region
    GET    /status/incidents               the incident feed (JSON), newest first; ?state=open|resolved
    GET    /status/incidents/{id}          one incident with its updates
    POST   /status/incidents               open an incident or a maintenance (token)
    POST   /status/incidents/{id}/updates  add an update: investigating, identified, monitoring, resolved (token)
    POST   /status/subscriptions           subscribe a webhook url, with filters (token: the mock's "sign in")
    GET    /status/subscriptions           the subscriptions (secrets hidden)
    DELETE /status/subscriptions/{id}      unsubscribe (token)
    GET    /status/deliveries              every webhook sent and how it went

Writing routes (token) need a bearer token (momlab.bus.edge.require_token); a failure is an `RpcError`,
answered by the app's handler as a JSON-RPC error envelope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from momlab.bus.bodies import read_json
from momlab.bus.dispatch import Bus
from momlab.bus.edge import require_token
from momlab.bus.jsonrpc import UNKNOWN_ENTITY, RpcError
from momlab.bus.statuspage import StatusPage

PAGE_POLICY = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def routes(bus: Bus) -> list[Route]:
    page = StatusPage(bus)

    def endpoint(
        work: Callable[..., Any], needs_token: bool = False, takes_body: bool = False, sends: bool = False, status: int = 200
    ) -> Callable[[Request], Awaitable[Response]]:
        """A route that checks, in this order, the token, the ids in the path and the JSON body, then runs
        `work(request)` (or `work(request, body)`) and, when it `sends`, the webhooks it queued."""

        async def run(request: Request) -> Response:
            if needs_token:
                require_token(request)
            _check_ids(request)
            answer = work(request, await read_json(request)) if takes_body else work(request)
            if sends:
                await run_in_threadpool(page.send_due)
            return answer if isinstance(answer, Response) else JSONResponse(answer, status)

        return run

    def incident_id(request: Request) -> int:
        found: int = request.path_params["incident_id"]  # the route's int converter made it one
        return found

    return [
        Route("/status", endpoint(lambda request: HTMLResponse(page.page(), headers=PAGE_POLICY)), methods=["GET"]),
        Route("/status/components", endpoint(lambda request: page.components()), methods=["GET"]),
        Route("/status/incidents", endpoint(lambda request: page.incidents(request.query_params.get("state"))), methods=["GET"]),
        Route("/status/incidents", endpoint(lambda request, doc: page.open(doc), needs_token=True, takes_body=True, sends=True, status=201),
              methods=["POST"]),
        Route("/status/incidents/{incident_id:int}", endpoint(lambda request: page.incident(incident_id(request))), methods=["GET"]),
        Route("/status/incidents/{incident_id:int}/updates",
              endpoint(lambda request, doc: page.update(incident_id(request), doc), needs_token=True, takes_body=True, sends=True),
              methods=["POST"]),
        Route("/status/subscriptions", endpoint(lambda request, doc: page.subscribe(doc), needs_token=True, takes_body=True, sends=True, status=201),
              methods=["POST"]),
        Route("/status/subscriptions", endpoint(lambda request: page.subscriptions()), methods=["GET"]),
        Route("/status/subscriptions/{subscription_id:int}",
              endpoint(lambda request: page.unsubscribe(request.path_params["subscription_id"]), needs_token=True), methods=["DELETE"]),
        Route("/status/deliveries", endpoint(lambda request: page.deliveries()), methods=["GET"]),
    ]


def _check_ids(request: Request) -> None:
    """An id beyond SQLite's 64-bit integers names nothing: say so before it reaches a query."""
    for name, value in request.path_params.items():
        if value >= 2**63:
            raise RpcError(UNKNOWN_ENTITY, f"No {name.split('_')[0]} {value}.", {"path": "url"})
