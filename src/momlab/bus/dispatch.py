"""The bus: request -> auth -> envelope -> catalog -> schema -> route -> flow -> response.

`Bus.prepare` does every check that needs no waiting and says where the message goes (the token
first, so an unauthenticated body is not read as JSON); `Bus.execute` carries it out: an OMS flow in
one transaction with its journal row and outbound messages, a synchronous call to a remote
(delivery.call_now), or deliveries queued for subscribers. Every failure, whatever the input,
becomes a JSON-RPC error object and a journal row (momlab.bus.journal); nothing is lost.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from momlab.bus import auth, catalog, delivery, journal, jsonrpc, jsontext
from momlab.bus.auth import TokenIssuer
from momlab.bus.config import Config
from momlab.bus.context import Context
from momlab.bus.flows import flow_for, prefix_flow_for
from momlab.bus.jsonrpc import Doc, RpcError
from momlab.bus.store import Store

OMS = "oms"  # the service id of MOM itself on the bus (mom-reference.md 1.4)
# Errors a notification still gets an answer for: the bus could not tell it was one, or did not look.
_ANSWERED_ANYWAY = (jsonrpc.PARSE_ERROR, jsonrpc.INVALID_REQUEST, jsonrpc.UNAUTHORIZED, jsonrpc.LIMIT_EXCEEDED)


@dataclass
class Reply:
    status: int
    body: Doc | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """What the bus learnt of a request before it refused it, for the journal and the answer."""

    method: str | None = None
    notification: bool = False


@dataclass
class Plan:
    route: str
    envelope: jsonrpc.Envelope
    body: bytes
    target: str  # 'oms', 'remote' (one named remote) or 'subscribers'
    remote: str | None = None
    sync: bool = True  # does the caller get the business answer?

    @property
    def blocking(self) -> bool:
        """True when carrying it out means waiting on a remote: run it off the event loop."""
        return self.sync and self.target != OMS


class Bus:
    def __init__(self, store: Store, config: Config):
        self.store = store
        self.config = config
        self.tokens = TokenIssuer(store, config)
        self.after_commit: list[Callable[[], None]] = []  # e.g. wake the deliverer

    # -- checks ---------------------------------------------------------------------------------
    def prepare(self, route: str, service: str | None, body: bytes, authorization: str | None) -> Plan | Reply:
        label = _label(route, service)
        refused = self._unauthorized(label, authorization, body)
        if refused is not None:
            return refused
        seen = Seen()
        try:
            envelope = _envelope(body, seen)
            if catalog.get(envelope.method) is None and prefix_flow_for(envelope.method) is not None:
                return self._open_route(label, route, service, envelope, body)
            message = self._lookup(envelope)
            # the schema first: a malformed message is -32602 whatever it refers to (an unknown remote,
            # order or shipment request is found later, by _route and the flows)
            self._validate(envelope)
            return self._route(label, route, service, envelope, message, body)
        except RpcError as error:
            return self._reject(label, journal.stored(body), error, seen)

    def refuse_unread(self, route: str, service: str | None, authorization: str | None) -> Reply:
        """A body the HTTP edge stopped reading at the size limit: refused and journaled without it."""
        label = _label(route, service)
        refused = self._unauthorized(label, authorization, b"")
        if refused is not None:
            return refused
        return self._reject(label, f"(over {jsonrpc.MAX_BODY_BYTES:,} bytes: not read, not kept)", jsonrpc.over_limit(), Seen())

    def _unauthorized(self, label: str, authorization: str | None, body: bytes) -> Reply | None:
        if not self.config.auth:
            return None
        problem = self.tokens.problem(authorization)
        if not problem:
            return None
        return self._reject(label, journal.stored(body), auth.unauthorized(problem), Seen(_method_of(body)), auth.CHALLENGE)

    def _lookup(self, envelope: jsonrpc.Envelope) -> catalog.Message:
        message = catalog.get(envelope.method)
        if message is None:
            close = catalog.suggest(envelope.method)
            hint = f" Did you mean {' or '.join(close)}? (names are case-sensitive)" if close else " The catalog lists every message the bus knows."
            raise RpcError(
                jsonrpc.METHOD_NOT_FOUND,
                f"The bus knows no message {envelope.method!r}.{hint}",
                {"path": "$.method", "suggestions": close},
                envelope.id,
            )
        return message

    def _validate(self, envelope: jsonrpc.Envelope) -> None:
        problems = catalog.validate(envelope.method, envelope.params)
        if problems:
            first = problems[0]
            raise RpcError(
                jsonrpc.INVALID_PARAMS,
                f"{envelope.method}: {first.path} {first.message}",
                {"path": first.path, "problems": [{"path": p.path, "message": p.message} for p in problems]},
                envelope.id,
            )

    def _open_route(self, label: str, route: str, service: str | None, envelope: jsonrpc.Envelope, body: bytes) -> Plan:
        """A message the catalog cannot name because its real name is not public (a payment
        notification, mom-reference.md 7.1): OMS takes it on its delegate URL only, and acknowledges it."""
        if route != "delegate" or service != OMS:
            raise RpcError(
                jsonrpc.METHOD_NOT_FOUND,
                f"{envelope.method} is not in the catalog. The mock takes it, unchecked, only as an asynchronous "
                "notification on OMS's delegate URL: POST /delegate/oms (mom.client.call(..., route='delegate')).",
                {"path": "url"},
                envelope.id,
            )
        return Plan(label, envelope, body, OMS, sync=False)

    def _route(
        self, label: str, route: str, service: str | None, envelope: jsonrpc.Envelope, message: catalog.Message, body: bytes
    ) -> Plan:
        to_mom = message.direction == "to_mom"
        if route in ("remote", "delegate") and service != OMS:
            if not self.store.query("SELECT 1 FROM remotes WHERE id = ?", (service,)):
                known = [r[0] for r in self.store.query("SELECT id FROM remotes ORDER BY id")]
                raise RpcError(
                    jsonrpc.UNKNOWN_ENTITY,
                    f"No service {service!r} on the bus. Use 'oms' for MOM itself, or a registered remote: {', '.join(known) or 'none yet'}.",
                    {"path": "url", "service": service},
                    envelope.id,
                )
            return Plan(label, envelope, body, "remote", service, sync=route == "remote")
        if to_mom:
            return Plan(label, envelope, body, OMS, sync=route in ("api", "remote"))
        if route in ("remote", "delegate"):
            raise RpcError(
                jsonrpc.METHOD_NOT_FOUND,
                f"OMS does not receive {envelope.method}: MOM sends it to the remotes subscribed to it. "
                "To try a remote with it, send it to /delegate/<remote id>, /events or /api.",
                {"path": "$.method"},
                envelope.id,
            )
        return Plan(label, envelope, body, "subscribers", sync=route == "api" and message.delivery == "sync")

    # -- doing it -------------------------------------------------------------------------------
    def execute(self, plan: Plan) -> Reply:
        try:
            if plan.target == OMS:
                return self._to_oms(plan)
            if plan.sync:
                return self._call_remote(plan)
            return self._queue(plan)
        except RpcError as error:
            if error.request_id is None:
                error.request_id = plan.envelope.id
            return self._reject(plan.route, journal.stored(plan.body), error, Seen(plan.envelope.method, plan.envelope.is_notification))

    def _to_oms(self, plan: Plan) -> Reply:
        env = plan.envelope
        flow = flow_for(env.method)
        with self.store.transaction() as db:
            ctx = Context(db, time.time(), self.config)
            ctx.inbound_id = _record_in(db, plan)
            result = flow(ctx, env.params) if flow else {}
            answer = result if plan.sync else {}
            reply = self._answer(env, answer)
            # a warehouse's message names its shipment request; the flow's answer names the order
            order_id = _order_of(env.params) or (_order_of(result) if isinstance(result, dict) else None)
            journal.answer(db, ctx.inbound_id, jsontext.dumps(result), order_id)
        self._committed(ctx.queued)
        reply.headers["X-Momlab-Journal-Id"] = str(ctx.inbound_id)
        return reply

    def _queue(self, plan: Plan) -> Reply:
        env = plan.envelope
        with self.store.transaction() as db:
            ctx = Context(db, time.time(), self.config)
            ctx.inbound_id = _record_in(db, plan)
            if plan.target == "remote":
                ctx.publish(env.method, env.params, _order_of(env.params), to=plan.remote)
                result: Doc = {}
            else:
                ctx.publish(env.method, env.params, _order_of(env.params))
                result = {"subscribers": ctx.subscribers(env.method)}
            journal.answer(db, ctx.inbound_id, jsontext.dumps(result))
        self._committed(ctx.queued)
        reply = self._answer(env, result)
        reply.headers["X-Momlab-Journal-Id"] = str(ctx.inbound_id)
        return reply

    def _call_remote(self, plan: Plan) -> Reply:
        """A synchronous call: the bus passes the request on and the remote's answer back."""
        env = plan.envelope
        with self.store.transaction() as db:
            remote_id = plan.remote or self._answering_subscriber(db, env.method)
            inbound = _record_in(db, plan)
        _, outcome = delivery.call_now(self.store, self.config, remote_id, env.method, env.params, _order_of(env.params), inbound)
        with self.store.transaction() as db:
            if outcome.ok:
                journal.answer(db, inbound, json.dumps(outcome.result))
            else:
                journal.fail_in(db, inbound, jsonrpc.REMOTE_FAILED, outcome.error)
        if not outcome.ok:
            advice = (
                "A synchronous handler must answer while the bus waits (Config.delivery_timeout): keep slow work out of it."
                if outcome.timed_out
                else "Check that it runs, that its registered url is right, and its own log."
            )
            error = RpcError(
                jsonrpc.REMOTE_FAILED,
                f"The synchronous call to remote {remote_id!r} failed: {outcome.error}. {advice}",
                {"path": "$", "remote": remote_id, "remote_answer": outcome.response},
                env.id,
            )
            return Reply(error.http_status, None if env.is_notification else jsonrpc.failure(env.id, error))
        return self._answer(env, outcome.result)

    def _answering_subscriber(self, db: sqlite3.Connection, method: str) -> str:
        """The remote that answers a synchronous message sent to the bus: its first subscriber."""
        subscribers = Context(db, 0, self.config).subscribers(method)
        if not subscribers:
            raise RpcError(
                jsonrpc.UNKNOWN_ENTITY,
                f"No remote subscribes to {method}, so nobody can answer this synchronous call. Register one first.",
                {"path": "$.method"},
            )
        return subscribers[0]

    # -- answers --------------------------------------------------------------------------------
    def _reject(self, label: str, body: str, error: RpcError, seen: Seen, headers: dict[str, str] | None = None) -> Reply:
        with self.store.transaction() as db:
            row_id = journal.reject(db, label, seen.method, body, error)
        out_headers = {"X-Momlab-Journal-Id": str(row_id), **(headers or {})}
        if seen.notification and error.code not in _ANSWERED_ANYWAY:
            # JSON-RPC forbids answering a notification; the error is in the journal and in this header.
            out_headers["X-Momlab-Error"] = error.message[:500].encode("ascii", "replace").decode()
            return Reply(204, None, out_headers)
        return Reply(error.http_status, jsonrpc.failure(error.request_id, error), out_headers)

    def _answer(self, env: jsonrpc.Envelope, result: Any) -> Reply:
        if env.is_notification:
            return Reply(204, None)
        return Reply(200, jsonrpc.success(env.id, result))

    def _committed(self, queued: int) -> None:
        if queued:
            for callback in self.after_commit:
                callback()


def _label(route: str, service: str | None) -> str:
    return route if service is None else f"{route}/{service}"


def _envelope(body: bytes, seen: Seen) -> jsonrpc.Envelope:
    """jsonrpc.parse, noting in `seen` the method and whether it is a notification as soon as the
    body is decoded, so a refusal need not decode it again."""
    if len(body) > jsonrpc.MAX_BODY_BYTES or not body.strip():
        return jsonrpc.parse(body)  # refuses it
    doc = jsonrpc.decode(body)
    if isinstance(doc, dict):
        method = doc.get("method")
        seen.method = method[:200] if isinstance(method, str) else None
        seen.notification = "id" not in doc
    return jsonrpc.check(doc)


def _method_of(body: bytes) -> str | None:
    """Best effort: the method of a request refused before it was read (no valid token), for the journal."""
    seen = Seen()
    try:
        _envelope(body, seen)
    except RpcError:
        pass
    return seen.method


def _record_in(db: sqlite3.Connection, plan: Plan) -> int:
    env = plan.envelope
    return journal.record_in(db, plan.route, env.method, journal.id_text(env), journal.stored(plan.body), remote=plan.remote)


def _order_of(params: Doc) -> str | None:
    """The order a message concerns, when it says so in one of the usual places."""
    for outer in ("order", "shipment", "payment", "return", "refund", "order_comment"):
        inner = params.get(outer)
        if isinstance(inner, dict):
            value = inner.get("order_id", inner.get("id") if outer == "order" else None)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return str(value)
    value = params.get("order_id")
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
