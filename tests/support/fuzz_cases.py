"""Hypothesis strategies for bad (and good) input to the bus, and the rule every answer must follow.

Three sources of requests:
- `envelopes()`: JSON-RPC envelopes with every member right, wrong or missing, plus bodies that
  are not JSON at all, not UTF-8, or not an object;
- `from_catalog()`: params generated from each catalog message's own params_schema (a generator for
  the small part of JSON Schema the catalog uses: type, properties, required, items, enum, pattern,
  minLength, minimum, minItems, maxItems, anyOf);
- `mutants()`: each message's valid example with one change: a required field dropped, a value
  of the wrong type, a huge or strange string, deep nesting.

`check(status, body, sent)` says what is wrong with an answer, or None. Shared by tests/test_fuzz.py
and bench/fuzz.py.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from hypothesis import strategies as st

from momlab.bus import catalog
from tests.support.rpc import conformance_problem

ROUTES = ("/api", "/remote/oms", "/delegate/oms", "/events")
MESSAGES = sorted(catalog.names())
NEST = "\u0000nest\u0000"  # stands for deep nesting, spliced into the JSON text after encoding

json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
strange_text = st.one_of(
    st.text(max_size=50),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=50),
    st.characters(categories=["Cs"]).map(lambda c: "x" + c),  # a lone surrogate: not valid Unicode text
    st.sampled_from(["", " ", "\u0000", "<script>alert(1)</script>", "'; DROP TABLE journal; --", "../../etc/passwd",
                     "\u202e\u0301", "🙂" * 20, "null", "NaN", "1e999"]),
    st.integers(1_000, 300_000).map(lambda n: "x" * n),
)


# -- from the schema ------------------------------------------------------------------------------

def from_schema(schema: dict) -> st.SearchStrategy:
    """Values the schema accepts (almost always: a pattern and minLength together may disagree)."""
    if "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        return st.one_of([from_schema(_both(rest, choice)) for choice in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema.get("type")
    if kinds is None:
        kinds = "object" if "properties" in schema else ["null", "boolean", "number", "string"]
    if isinstance(kinds, list):
        return st.one_of([from_schema({**schema, "type": kind}) for kind in kinds])
    if kinds == "object":
        properties = schema.get("properties", {})
        required = [name for name in schema.get("required", []) if name in properties]
        return st.fixed_dictionaries({name: from_schema(properties[name]) for name in required},
                                     optional={name: from_schema(sub) for name, sub in properties.items() if name not in required})
    if kinds == "array":
        low = schema.get("minItems", 0)
        return st.lists(from_schema(schema.get("items", {})), min_size=low, max_size=max(low, min(schema.get("maxItems", 3), 3)))
    if kinds == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) >= schema.get("minLength", 0))
        return st.text(min_size=schema.get("minLength", 0), max_size=max(schema.get("minLength", 0), 20))
    if kinds == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=10**9)
    if kinds == "number":
        low = schema.get("minimum")
        return st.integers(min_value=low, max_value=10**9) | st.floats(min_value=low, max_value=1e12, allow_nan=False, allow_infinity=False)
    if kinds == "boolean":
        return st.booleans()
    if kinds == "null":
        return st.none()
    raise ValueError(f"the fuzzer does not know JSON Schema type {kinds!r}")


def _both(schema: dict, more: dict) -> dict:
    """The two schemas' keywords together (their `required` lists joined and their `properties` merged,
    a branch's narrower property winning, not replaced)."""
    joined = {**schema, **more}
    if "required" in schema and "required" in more:
        joined["required"] = list(dict.fromkeys(schema["required"] + more["required"]))
    if "properties" in schema and "properties" in more:
        joined["properties"] = {**schema["properties"], **more["properties"]}
    return joined


@functools.cache
def params_of(method: str) -> st.SearchStrategy:
    """Params for `method` from its schema (built once: building is slower than drawing)."""
    return from_schema(catalog.get(method).params_schema)


@st.composite
def from_catalog(draw) -> dict:
    method = draw(st.sampled_from(MESSAGES))
    params = draw(params_of(method))
    return {"route": draw(st.sampled_from(ROUTES)), "doc": _request(method, params, draw(st.integers(1, 10**6)))}


# -- the valid example, changed once ------------------------------------------------------------------

def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*path, index))
    return found


def _wrong_type(value: Any) -> st.SearchStrategy:
    kinds = {bool: st.integers(), int: st.text(max_size=5) | st.booleans(), float: st.text(max_size=5),
             str: st.integers() | st.lists(st.text(max_size=3), max_size=2) | st.none(), list: st.text(max_size=5) | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
             dict: st.lists(st.integers(), max_size=2) | st.text(max_size=5), type(None): st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)}
    return kinds.get(type(value), json_scalars)


@st.composite
def mutants(draw) -> dict:
    method = draw(st.sampled_from(MESSAGES))
    params = copy.deepcopy(catalog.example(method))
    path = draw(st.sampled_from(_paths(params)))
    change = draw(st.sampled_from(["drop", "wrong_type", "strange_text", "any_json", "nest", "extra_key"]))
    if not path:
        params = draw(_wrong_type(params) | json_values) if change != "nest" else NEST
    else:
        parent = params
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if change == "drop":
            if isinstance(parent, dict):
                del parent[last]
            else:
                parent.pop(last)
        elif change == "wrong_type":
            parent[last] = draw(_wrong_type(parent[last]))
        elif change == "strange_text":
            parent[last] = draw(strange_text)
        elif change == "any_json":
            parent[last] = draw(json_values)
        elif change == "nest":
            parent[last] = NEST
        elif isinstance(parent[last], dict):
            parent[last][draw(strange_text.filter(lambda s: len(s) < 100))] = draw(json_values)
        else:
            parent[last] = draw(json_values)
    doc = _request(method, params, draw(st.integers(1, 10**6)))
    return {"route": draw(st.sampled_from(ROUTES)), "doc": doc, "depth": draw(st.integers(2, 5000))}


# -- envelopes and raw bodies --------------------------------------------------------------------------

MISSING = object()


_JSONRPC = st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2.0, "2", None, MISSING])
_IDS = st.one_of(st.integers(-(2**63), 2**63), st.text(max_size=40), st.floats(allow_nan=False, allow_infinity=False),
                 st.none(), st.booleans(), st.lists(st.integers(), max_size=2), st.just(MISSING))
_ODD_METHODS = st.one_of(st.sampled_from(MESSAGES).map(str.upper), strange_text.filter(lambda s: len(s) < 300), st.integers(), st.none())
_ODD_PARAMS = st.one_of(json_values, st.lists(json_values, max_size=3), st.just(MISSING))


def _method_member(draw, method):
    return method if draw(st.booleans()) else draw(_ODD_METHODS)


def _params_member(draw, method):
    choice = draw(st.sampled_from(["example", "schema", "odd"]))
    if method is MISSING or choice == "odd":
        return draw(_ODD_PARAMS)
    return copy.deepcopy(catalog.example(method)) if choice == "example" else draw(params_of(method))


@st.composite
def envelopes(draw) -> dict:
    shape = draw(st.sampled_from(["members", "members", "members", "not_an_object", "bytes", "text"]))
    route = draw(st.sampled_from(ROUTES))
    if shape == "not_an_object":
        return {"route": route, "doc": draw(st.lists(json_values, max_size=3) | json_scalars)}
    if shape == "bytes":
        return {"route": route, "raw": draw(st.binary(max_size=200))}
    if shape == "text":
        return {"route": route, "raw": draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")}
    method = draw(st.sampled_from(MESSAGES)) if draw(st.booleans()) else MISSING
    doc: dict = {}
    for name, value in (("jsonrpc", draw(_JSONRPC)), ("id", draw(_IDS)), ("method", _method_member(draw, method)), ("params", _params_member(draw, method))):
        if value is not MISSING:
            doc[name] = value
    if draw(st.integers(0, 9)) == 0:
        doc[draw(st.text(max_size=10))] = draw(json_values)
    return {"route": route, "doc": doc}


def cases() -> st.SearchStrategy:
    return st.one_of(envelopes(), from_catalog(), mutants())


def encode(case: dict) -> bytes:
    """The bytes to send for a case (deep nesting spliced in after encoding)."""
    if "raw" in case:
        return case["raw"]
    text = json.dumps(case["doc"], ensure_ascii=True)
    if NEST in json.dumps(case["doc"], ensure_ascii=False):
        depth = case.get("depth", 3000)
        text = text.replace(json.dumps(NEST), "[" * depth + "1" + "]" * depth, 1)
    return text.encode()


def _request(method: str, params: Any, request_id: int) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


# -- the rule ----------------------------------------------------------------------------------------

def check(status: int, body: bytes, sent: bytes) -> str | None:
    """None when the answer is allowed; else what is wrong with it. No 5xx, except 502 for a remote
    that failed a synchronous call; an empty 204 for a notification; otherwise a JSON-RPC 2.0
    response whose error (if any) has an int code in the allowed ranges, a message and a data.path."""
    if status == 204:
        return None if not body else f"a 204 with a body: {body[:200]!r}"
    try:
        doc = json.loads(body)
    except ValueError:
        return f"HTTP {status} with a body that is not JSON: {body[:200]!r}"
    problem = conformance_problem(doc, status)
    if problem:
        return f"HTTP {status}: {problem}"
    if status >= 500 and not (status == 502 and doc["error"]["code"] == -32010):
        return f"HTTP {status}: {str(doc)[:300]}"
    if "error" in doc and doc["error"]["code"] == -32700:  # unreadable: no id can be trusted
        return None if doc["id"] is None else f"a parse error answered with id {doc['id']!r}, not null"
    try:
        request = json.loads(sent)
    except (ValueError, RecursionError):
        return None
    if isinstance(request, dict) and "id" in request and _plain_id(request["id"]) and doc.get("id") != request["id"]:
        return f"the answer's id {doc.get('id')!r} is not the request's {request['id']!r}"
    return None


def _plain_id(value: Any) -> bool:
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


# -- running them ------------------------------------------------------------------------------------

class Sender:
    """POSTs to the bus on one kept-alive connection, opening a new one when the server closed it."""

    def __init__(self, url: str, bearer: str | None):
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = {"Content-Type": "application/json"}
        if bearer:
            self.headers["Authorization"] = f"Bearer {bearer}"
        self._conn = None

    def post(self, route: str, body: bytes) -> tuple[int, bytes]:
        import http.client
        import socket

        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self._conn.connect()
                self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self._conn.request("POST", route, body, self.headers)
                answer = self._conn.getresponse()
                return answer.status, answer.read()
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def run(url: str, bearer: str | None, examples: int, derandomize: bool, seed: int | None = None, stop_at_first: bool = False,
        strategy: st.SearchStrategy | None = None) -> dict:
    """Send `examples` generated cases; count them and collect every answer that breaks the rule."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    sender = Sender(url, bearer)
    seen = {"cases": 0, "statuses": {}, "failures": []}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if stop_at_first else []))
    @given(strategy if strategy is not None else cases())
    def one(case):
        body = encode(case)
        status, answer = sender.post(case["route"], body)
        seen["cases"] += 1
        seen["statuses"][status] = seen["statuses"].get(status, 0) + 1
        problem = check(status, answer, body)
        if problem:
            if stop_at_first:
                raise AssertionError(f"{problem}\nsent to {case['route']}: {body[:500]!r}")
            seen["failures"].append({"problem": problem, "route": case["route"], "sent": body[:300].decode("utf-8", "replace")})

    if seed is not None and not derandomize:
        one = with_seed(seed)(one)
    try:
        one()
    finally:
        sender.close()
    return seen
