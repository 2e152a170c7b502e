"""The bus: request -> envelope -> auth -> catalog -> schema -> route -> flow -> response.

`Bus.prepare` does every check that needs no waiting and says where the message goes;
`Bus.execute` carries it out: an OMS flow in one transaction with its journal row and outbound
messages, a synchronous call to a remote, or deliveries queued for subscribers. Every failure,
whatever the input, becomes a JSON-RPC error object and a journal row; nothing is lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from momlab.bus import catalog, delivery, jsonrpc, jsontext
from momlab.bus.auth import TokenIssuer
from momlab.bus.config import Config
from momlab.bus.context import Context
from momlab.bus.flows import flow_for, prefix_flow_for
from momlab.bus.jsonrpc import RpcError
from momlab.bus.store import Store

OMS = "oms"  # the service id of MOM itself on the bus (mom-reference.md 1.4)
STORED_BODY_LIMIT = 64 * 1024


@dataclass
class Reply:
    status: int
    body: dict | None
    headers: dict = field(default_factory=dict)


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
        self._session = requests.Session()
        self._session.trust_env = False

    # -- checks ---------------------------------------------------------------------------------
    def prepare(self, route: str, service: str | None, body: bytes, authorization: str | None) -> Plan | Reply:
        label = route if service is None else f"{route}/{service}"
        if self.config.auth:
            problem = self.tokens.check(authorization)
            if problem:
                return self._reject(label, body, RpcError(jsonrpc.UNAUTHORIZED, problem, {"path": "headers.Authorization"}), {"WWW-Authenticate": "Bearer"})
        try:
            envelope = jsonrpc.parse(body)
            if catalog.get(envelope.method) is None and prefix_flow_for(envelope.method) is not None:
                return self._open_route(label, route, service, envelope, body)
            message = self._lookup(envelope)
            self._validate(envelope)
            return self._route(label, route, service, envelope, message, body)
        except RpcError as error:
            return self._reject(label, body, error)

    def _lookup(self, envelope: jsonrpc.Envelope):
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

    def _open_route(self, label, route, service, envelope, body) -> Plan:
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

    def _route(self, label, route, service, envelope, message, body) -> Plan:
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
            return self._reject(plan.route, plan.body, error, method=plan.envelope.method)

    def _to_oms(self, plan: Plan) -> Reply:
        env = plan.envelope
        flow = flow_for(env.method)
        with self.store.transaction() as db:
            ctx = Context(db, time.time(), self.config)
            ctx.inbound_id = self._journal_in(db, plan, "ok")
            result = flow(ctx, env.params) if flow else {}
            answer = result if plan.sync else {}
            reply = self._answer(env, answer)
            db.execute(
                "UPDATE journal SET response = ?, order_id = ? WHERE id = ?",
                # a warehouse's message names its shipment request; the flow's answer names the order
                (jsontext.dumps(result), _order_of(env.params) or (_order_of(result) if isinstance(result, dict) else None), ctx.inbound_id),
            )
        self._committed(ctx.queued)
        reply.headers["X-Momlab-Journal-Id"] = str(ctx.inbound_id)
        return reply

    def _queue(self, plan: Plan) -> Reply:
        env = plan.envelope
        with self.store.transaction() as db:
            ctx = Context(db, time.time(), self.config)
            ctx.inbound_id = self._journal_in(db, plan, "ok")
            if plan.target == "remote":
                ctx.publish(env.method, env.params, _order_of(env.params), to=plan.remote)
                result: dict = {}
            else:
                ctx.publish(env.method, env.params, _order_of(env.params))
                result = {"subscribers": ctx.subscribers(env.method)}
            db.execute("UPDATE journal SET response = ? WHERE id = ?", (jsontext.dumps(result), ctx.inbound_id))
        self._committed(ctx.queued)
        reply = self._answer(env, result)
        reply.headers["X-Momlab-Journal-Id"] = str(ctx.inbound_id)
        return reply

    def _call_remote(self, plan: Plan) -> Reply:
        """A synchronous call: the bus passes the request on and the remote's answer back."""
        env = plan.envelope
        remote_id = plan.remote
        if plan.target == "subscribers":
            with self.store.transaction() as db:
                subscribers = Context(db, 0, self.config).subscribers(env.method)
            if not subscribers:
                raise RpcError(
                    jsonrpc.UNKNOWN_ENTITY,
                    f"No remote subscribes to {env.method}, so nobody can answer this synchronous call. Register one first.",
                    {"path": "$.method"},
                )
            remote_id = subscribers[0]
        remote = self.store.query("SELECT url, secret FROM remotes WHERE id = ?", (remote_id,))[0]
        with self.store.transaction() as db:
            inbound = self._journal_in(db, plan, "ok")
            ctx = Context(db, time.time(), self.config, inbound_id=inbound)
            ctx.publish(env.method, env.params, _order_of(env.params), to=remote_id)
            out_id = db.execute("SELECT MAX(id) FROM journal").fetchone()[0]
            db.execute("UPDATE journal SET status = 'sending' WHERE id = ?", (out_id,))
            out_body = db.execute("SELECT body FROM journal WHERE id = ?", (out_id,)).fetchone()[0]
        outcome = delivery.post(self._session, remote["url"], remote["secret"], out_body.encode(), self.config.delivery_timeout,
                                hosted=self.config.hosted)
        with self.store.transaction() as db:
            db.execute(
                "UPDATE journal SET status = ?, attempts = 1, error = ?, response = ? WHERE id = ?",
                ("delivered" if outcome.ok else "failed", outcome.error, outcome.response, out_id),
            )
            if outcome.ok:
                db.execute("UPDATE journal SET response = ? WHERE id = ?", (json.dumps(outcome.result), inbound))
            else:
                db.execute(
                    "UPDATE journal SET status = 'failed', error_code = ?, error = ? WHERE id = ?",
                    (jsonrpc.REMOTE_FAILED, outcome.error, inbound),
                )
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

    # -- journal and answers --------------------------------------------------------------------
    def _journal_in(self, db, plan: Plan, status: str) -> int:
        env = plan.envelope
        cursor = db.execute(
            "INSERT INTO journal (at, direction, route, method, request_id, body, status, remote)"
            " VALUES (?, 'in', ?, ?, ?, ?, ?, ?)",
            (time.time(), plan.route, env.method, _id_text(env), _stored(plan.body), status, plan.remote),
        )
        return cursor.lastrowid

    def _reject(self, label: str, body: bytes, error: RpcError, headers: dict | None = None, method: str | None = None) -> Reply:
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO journal (at, direction, route, method, request_id, body, status, error_code, error, response)"
                " VALUES (?, 'in', ?, ?, ?, ?, 'rejected', ?, ?, ?)",
                (
                    time.time(),
                    label,
                    method or _method_of(body),
                    json.dumps(error.request_id),
                    _stored(body),
                    error.code,
                    error.message,
                    json.dumps(error.to_object()),
                ),
            )
        out_headers = {"X-Momlab-Journal-Id": str(cursor.lastrowid), **(headers or {})}
        if _is_notification(body) and error.code not in (jsonrpc.PARSE_ERROR, jsonrpc.INVALID_REQUEST, jsonrpc.UNAUTHORIZED, jsonrpc.LIMIT_EXCEEDED):
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


def _stored(body: bytes) -> str:
    if len(body) > STORED_BODY_LIMIT:
        return body[:STORED_BODY_LIMIT].decode("utf-8", "replace") + f"\n... ({len(body):,} bytes; the rest is not kept)"
    return body.decode("utf-8", "replace")


def _id_text(env: jsonrpc.Envelope) -> str | None:
    return None if env.is_notification else json.dumps(env.id)


def _method_of(body: bytes) -> str | None:
    """Best effort: the method name of a request that was rejected, for the journal."""
    if len(body) > jsonrpc.MAX_BODY_BYTES:
        return None
    try:
        doc = jsonrpc.decode(body)
    except RpcError:
        return None
    method = doc.get("method") if isinstance(doc, dict) else None
    return method[:200] if isinstance(method, str) else None


def _is_notification(body: bytes) -> bool:
    try:
        doc = jsonrpc.decode(body) if len(body) <= jsonrpc.MAX_BODY_BYTES else None
    except RpcError:
        return False
    return isinstance(doc, dict) and "id" not in doc


def _order_of(params: dict) -> str | None:
    """The order a message concerns, when it says so in one of the usual places."""
    for outer in ("order", "shipment", "payment", "return", "refund", "order_comment"):
        inner = params.get(outer)
        if isinstance(inner, dict):
            value = inner.get("order_id", inner.get("id") if outer == "order" else None)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return str(value)
    value = params.get("order_id")
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
