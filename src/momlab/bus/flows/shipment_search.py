"""magento.logistics.shipment_request_repository.search: find shipment requests (mom-reference.md 3 row 16, 5.14).

The spec names the query and its searchable fields: id, order_id, source_id, shipping_method, status,
origin_date, status_date, sales_channel_id [code]. How a query is written is not public, so the mock
reads `query` as {field: value or [values]} and pages with offset / size, like the source search;
dates match by their beginning ("2026-11-27") or by a {"from", "to"} range [mock]. Items have the
fields of the spec's shipment_request structure. A request's status_date is the last change of its
order in this mock (each change to a request also touches its order) [mock].
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from momlab.bus.context import Context
from momlab.bus.flows import handles
from momlab.bus.jsonrpc import INVALID_PARAMS, Doc, RpcError
from momlab.bus.timestamps import iso_seconds

SEARCHABLE = ("id", "order_id", "source_id", "shipping_method", "status", "origin_date", "status_date", "sales_channel_id")
DATES = ("origin_date", "status_date")
COLUMNS = {"id": "r.id", "order_id": "r.order_id", "source_id": "r.source_id", "status": "r.status", "sales_channel_id": "o.store"}


@handles("magento.logistics.shipment_request_repository.search")
def search(ctx: Context, params: Doc) -> Doc:
    query = params.get("query") or {}
    for name in query:
        if name not in SEARCHABLE:
            raise RpcError(
                INVALID_PARAMS,
                f"Shipment requests cannot be searched by {name!r}. Searchable fields: {', '.join(SEARCHABLE)}.",
                {"path": f"$.params.query.{name}"},
            )
    tests = {name: _matcher(name, value) for name, value in query.items()}
    offset = params.get("offset", 0)
    size = params.get("size", 100)
    # Fields held in a column are filtered by SQLite (with the order_id index); the rest need the
    # order's body, so only the rows left are read and parsed.
    where, args = [], []
    for name, column in COLUMNS.items():
        if name in query:
            values = query[name] if isinstance(query[name], list) else [query[name]]
            where.append(f"{column} IN (SELECT value FROM json_each(?))")
            args.append(json.dumps([str(value) for value in values]))
            del tests[name]
    rows = ctx.db.execute(
        "SELECT r.id, r.order_id, r.source_id, r.status, r.body AS request, r.created_at, o.store, o.body AS order_body, o.updated_at "
        "FROM shipment_requests r JOIN orders o ON o.id = r.order_id"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY r.created_at, r.id",
        args,
    ).fetchall()
    found = []
    for row in rows:
        order = json.loads(row["order_body"])
        fields = {
            "id": row["id"],
            "order_id": row["order_id"],
            "source_id": row["source_id"],
            "shipping_method": next((line.get("sku") for line in order.get("lines") or [] if (line.get("product_type") or "").upper() == "SHIPPING"), None),
            "status": row["status"],
            "origin_date": order.get("origin_date"),
            "status_date": iso_seconds(row["updated_at"]),
            "sales_channel_id": row["store"],
        }
        if all(test(fields[name]) for name, test in tests.items()):
            found.append((row, order, fields))
    page = found[offset : offset + size]
    return {"items": [_item(ctx.db, row, order, fields) for row, order, fields in page], "offset": offset, "size": size, "total": len(found)}


def _item(db: sqlite3.Connection, row: sqlite3.Row, order: Doc, fields: Doc) -> Doc:
    request = json.loads(row["request"])
    lines = {r["line_id"]: r for r in db.execute("SELECT line_id, status, status_reason FROM order_lines WHERE request_id = ?", (row["id"],))}
    items = []
    for item in request.get("items") or []:
        line = lines.get(str(item.get("order_line_id")))
        current = {"status": line["status"], "status_reason": line["status_reason"]} if line else {}
        items.append({**item, **current, "status_date": fields["status_date"]})
    customer = order.get("customer") or {}
    return {
        "id": row["id"],
        "order_id": row["order_id"],
        "source_id": row["source_id"],
        "customer_id": customer.get("id"),
        "store": row["store"],
        "language": order.get("language"),
        "vat_country": order.get("vat_country"),
        "origin": order.get("origin"),
        "origin_date": order.get("origin_date"),
        "created_at": iso_seconds(row["created_at"]),
        "status": row["status"],
        "status_date": fields["status_date"],
        "items": items,
        "addresses": order.get("addresses") or [],
        "shipping_address": request.get("shipping_address"),
        "billing_address": request.get("billing_address"),
    }


def _matcher(name: str, value: Any) -> Callable[[Any], bool]:
    path = f"$.params.query.{name}"
    if name in DATES:
        if isinstance(value, dict):
            unknown = set(value) - {"from", "to"}
            if unknown:
                raise RpcError(INVALID_PARAMS, f"A date range has only `from` and `to`; drop {', '.join(sorted(unknown))}.", {"path": path})
            low = _moment(value.get("from"), f"{path}.from", end=False)
            high = _moment(value.get("to"), f"{path}.to", end=True)
            return lambda got: _within(got, low, high)
        if isinstance(value, str):
            return lambda got: isinstance(got, str) and got.startswith(value)
        raise RpcError(INVALID_PARAMS, f"{name} must be a date text such as \"2026-11-27\" or a range {{\"from\": ..., \"to\": ...}}.", {"path": path})
    values = value if isinstance(value, list) else [value]
    for index, one in enumerate(values):
        if not isinstance(one, (str, int)) or isinstance(one, bool):
            where = f"{path}[{index}]" if isinstance(value, list) else path
            raise RpcError(INVALID_PARAMS, f"{name} takes a text value or a list of them.", {"path": where})
    wanted = {str(one) for one in values}
    return lambda got: got is not None and str(got) in wanted


def _moment(text: Any, path: str, end: bool) -> datetime | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise RpcError(INVALID_PARAMS, "Write dates as ISO-8601 text, e.g. 2026-11-27 or 2026-11-27T09:00:00+00:00.", {"path": path})
    try:
        moment = _parse(text)
    except ValueError:
        raise RpcError(INVALID_PARAMS, f"{text!r} is not an ISO-8601 date; write e.g. 2026-11-27 or 2026-11-27T09:00:00+00:00.", {"path": path}) from None
    if end and len(text) == 10:  # a day: up to its end
        moment += timedelta(days=1) - timedelta(microseconds=1)
    return moment


def _within(got: Any, low: datetime | None, high: datetime | None) -> bool:
    try:
        moment = _parse(got)
    except (TypeError, ValueError):  # an order whose date is not ISO-8601 matches no range
        return False
    return (low is None or low <= moment) and (high is None or moment <= high)


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
