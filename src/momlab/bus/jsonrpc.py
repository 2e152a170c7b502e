"""JSON-RPC 2.0 envelopes as the Magento Integration Bus (MIB) accepts them.

MIB follows the JSON-RPC 2.0 specification with its own limits: no batches, `params` must be an
object, names are case-sensitive. Everything here is pure: bytes in, an `Envelope` or an `RpcError`
out, so the HTTP layer stays thin and the rules are easy to test.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from typing import Any, NoReturn

import orjson

Doc = dict[str, Any]
"""A JSON object: a request's params, a flow's result, a message body."""

# Standard codes (JSON-RPC 2.0, section 5.1).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

# Business codes, inside the range the specification reserves for servers (-32000..-32099).
UNAUTHORIZED = -32001
UNKNOWN_ORDER = -32002
UNKNOWN_SHIPMENT_REQUEST = -32003
UNKNOWN_ENTITY = -32004  # remote, service, source, aggregate, sales channel
CONFLICT = -32005  # duplicate order id, line already shipped...
LIMIT_EXCEEDED = -32006
REMOTE_FAILED = -32010  # a synchronous call to a remote failed or timed out

# The HTTP status that goes with each code: never 200 for a failure, never 5xx for bad input.
HTTP_STATUS = {
    PARSE_ERROR: 400,
    INVALID_REQUEST: 400,
    METHOD_NOT_FOUND: 404,
    INVALID_PARAMS: 422,
    INTERNAL_ERROR: 500,
    UNAUTHORIZED: 401,
    UNKNOWN_ORDER: 404,
    UNKNOWN_SHIPMENT_REQUEST: 404,
    UNKNOWN_ENTITY: 404,
    CONFLICT: 409,
    LIMIT_EXCEEDED: 413,
    REMOTE_FAILED: 502,
}

MAX_BODY_BYTES = 1024 * 1024


class RpcError(Exception):
    """A JSON-RPC error object as an exception: code, a message saying what to fix, data. The bus raises
    it; a client (momlab.MomClient) raises the same class, named MomError there, for an error it received.
    `http_status` is the status the error travelled with (or the one the bus gives its code)."""

    def __init__(self, code: int, message: str, data: Doc | None = None, request_id: Any = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data or {}
        self.request_id = request_id
        self._http_status = http_status

    @classmethod
    def from_object(cls, error: Doc, http_status: int | None = None) -> RpcError:
        """The error member of a JSON-RPC response, as received."""
        code: Any = error.get("code")  # kept as received, even when a peer sends none or not an integer
        return cls(code, error.get("message") or "", error.get("data"), http_status=http_status)

    @property
    def http_status(self) -> int:
        return self._http_status or HTTP_STATUS.get(self.code, 400)

    @property
    def path(self) -> str | None:
        return self.data.get("path") if isinstance(self.data, dict) else None

    def to_object(self) -> Doc:
        error: Doc = {"code": self.code, "message": self.message}
        if self.data:
            error["data"] = self.data
        return error

    def __str__(self) -> str:
        where = f" (at {self.path})" if self.path else ""
        return f"[{self.code}] {self.message}{where}"

    def _repr_html_(self) -> str:
        problems = self.data.get("problems") or [] if isinstance(self.data, dict) else []
        rows = "".join(
            f"<li><code>{html.escape(str(p.get('path')))}</code> {html.escape(str(p.get('message')))}</li>" for p in problems
        )
        return (
            '<div style="border-left:4px solid #b00020;padding:.4em .8em;background:#fff5f5">'
            f"<b>The bus refused the message</b> (JSON-RPC error {self.code}, HTTP {self.http_status})<br>"
            f"{html.escape(self.message)}"
            + (f"<ul>{rows}</ul>" if rows else "")
            + "</div>"
        )


@dataclass(frozen=True)
class Envelope:
    method: str
    params: Doc
    id: Any = None
    is_notification: bool = False


def parse(body: bytes) -> Envelope:
    """Turn raw request bytes into an Envelope, or raise RpcError saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise over_limit()
    if not body.strip():
        raise RpcError(INVALID_REQUEST, "The request body is empty; send one JSON-RPC 2.0 request object.", {"path": "$"})
    return check(decode(body))


def over_limit() -> RpcError:
    """The error for a request body over MAX_BODY_BYTES."""
    return RpcError(
        LIMIT_EXCEEDED,
        # the HTTP layer stops reading at the limit, so the true size is not known: say "over"
        f"The request body is over the bus's limit of {MAX_BODY_BYTES:,} bytes (1 MiB). "
        "Split the message: stock snapshots carry at most 10,000 SKUs each.",
        {"path": "$", "limit_bytes": MAX_BODY_BYTES},
    )


def decode(body: bytes) -> Any:
    """Strict JSON (RFC 8259) from bytes, or RpcError -32700: UTF-8 only, no NaN or Infinity, no number
    too large for a double, no lone UTF-16 surrogate (none of these can be stored or sent on)."""
    if _fast_read_safe(body):
        try:
            return orjson.loads(body)  # as strict as the reader below, and several times faster
        except orjson.JSONDecodeError:
            pass  # the reader below says precisely what is wrong
    try:
        text = body.decode("utf-8")  # strict: json.loads(bytes) would also take UTF-16 and lone surrogates
        doc = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except UnicodeDecodeError:
        raise RpcError(PARSE_ERROR, "The body is not UTF-8 text; send JSON encoded as UTF-8.", {"path": "$"}) from None
    except json.JSONDecodeError as exc:
        raise RpcError(
            PARSE_ERROR,
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            {"path": "$", "line": exc.lineno, "column": exc.colno},
        ) from None
    except RecursionError:
        raise RpcError(PARSE_ERROR, "The JSON is nested too deeply to read.", {"path": "$"}) from None
    except ValueError as exc:  # raised by the hooks above, or an integer with thousands of digits
        reason = str(exc) if isinstance(exc, _Unreadable) else "a number has too many digits"
        raise RpcError(PARSE_ERROR, f"The body is not JSON the bus can use: {reason}.", {"path": "$"}) from None
    if _SURROGATE.search(text):
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RpcError(
                PARSE_ERROR,
                "The JSON holds a lone UTF-16 surrogate (\\ud800-\\udfff without its pair); strings must be valid Unicode.",
                {"path": "$"},
            ) from None
    return doc


class _Unreadable(ValueError):
    pass


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_LONG_INTEGER = re.compile(rb"\d{19}")
_FEW_BRACKETS = 900  # fewer brackets than this cannot nest as deep as the standard library refuses


def _fast_read_safe(body: bytes) -> bool:
    """orjson reads an integer beyond 64 bits as an inexact float, and accepts nesting deeper than the
    rest of the bus can walk: bodies that might hold either go to the strict reader."""
    return body.count(b"[") + body.count(b"{") < _FEW_BRACKETS and _LONG_INTEGER.search(body) is None


def _not_json(name: str) -> NoReturn:
    raise _Unreadable(f"{name} is not a JSON value (JSON has no NaN or Infinity)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Unreadable(f"the number {text[:40]} is too large")
    return value


def check(doc: Any) -> Envelope:
    """Check a decoded JSON document against JSON-RPC 2.0 and MIB's limits."""
    if isinstance(doc, list):
        raise RpcError(
            INVALID_REQUEST,
            "Batch requests (a JSON array) are not supported by the bus; send each message as its own request.",
            {"path": "$"},
        )
    if not isinstance(doc, dict):
        raise RpcError(INVALID_REQUEST, f"A request must be a JSON object, got {_kind(doc)}.", {"path": "$"})

    request_id = doc.get("id")
    if "id" in doc and not _valid_id(request_id):
        raise RpcError(
            INVALID_REQUEST,
            f"`id` must be a string, a number or null, got {_kind(request_id)}.",
            {"path": "$.id"},
        )
    reply_id = request_id if _valid_id(request_id) else None

    if doc.get("jsonrpc") != "2.0":
        found = "missing" if "jsonrpc" not in doc else f"{json.dumps(doc['jsonrpc'])}"
        raise RpcError(
            INVALID_REQUEST,
            f'`jsonrpc` must be exactly the string "2.0" ({found}).',
            {"path": "$.jsonrpc"},
            reply_id,
        )
    method = doc.get("method")
    if not isinstance(method, str) or not method:
        found = "missing" if "method" not in doc else _kind(method)
        raise RpcError(
            INVALID_REQUEST,
            f"`method` must be the topic name as a non-empty string, e.g. magento.sales.order_management.create ({found}).",
            {"path": "$.method"},
            reply_id,
        )
    if "params" not in doc:
        params: Any = {}
    else:
        params = doc["params"]
    if isinstance(params, list):
        raise RpcError(
            INVALID_PARAMS,
            "`params` must be a JSON object with named fields; the bus does not accept positional (array) params.",
            {"path": "$.params"},
            reply_id,
        )
    if not isinstance(params, dict):
        raise RpcError(
            INVALID_REQUEST,
            f"`params` must be a JSON object, got {_kind(params)}.",
            {"path": "$.params"},
            reply_id,
        )
    return Envelope(method=method, params=params, id=request_id, is_notification="id" not in doc)


def success(request_id: Any, result: Any) -> Doc:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def failure(request_id: Any, error: RpcError) -> Doc:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_object()}


def request(method: str, params: Doc, request_id: Any = None) -> Doc:
    """Build a request object; leave request_id None for a notification."""
    doc: Doc = {"jsonrpc": "2.0", "method": method, "params": params}
    if request_id is not None:
        doc["id"] = request_id
    return doc


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)
