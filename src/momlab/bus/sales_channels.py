"""OMS Admin stand-ins that no public bus message covers.

save_sales_channel: the mock's stand-in for OMS Admin > System > Stock aggregates and Sales channels
> Add Sales channel. A sales channel has an external id, a name and exactly one stock aggregate [doc];
the create / update messages' topic names are not public (mom-reference.md 5.8, 7.6), so the mock
offers this as Mock.create_sales_channel and POST /admin/sales_channels.
"""

from __future__ import annotations

from typing import Any

from momlab.bus.jsonrpc import INVALID_PARAMS, UNKNOWN_ENTITY, RpcError
from momlab.bus.store import Store

FIELDS = ("id", "name", "aggregate_id")


def save_sales_channel(store: Store, params: Any) -> dict[str, Any]:
    """Create or update a sales channel {id, name, aggregate_id}; RpcError says what to fix."""
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "Send a JSON object: {\"id\": ..., \"name\": ..., \"aggregate_id\": ...}.", {"path": "$"})
    for field in FIELDS:
        value = params.get(field)
        if not isinstance(value, str) or not value.strip():
            raise RpcError(INVALID_PARAMS, f"`{field}` must be a non-empty string.", {"path": f"$.{field}"})
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM aggregates WHERE id = ?", (params["aggregate_id"],)).fetchone() is None:
            known = [r[0] for r in db.execute("SELECT id FROM aggregates ORDER BY id")]
            raise RpcError(
                UNKNOWN_ENTITY,
                f"Stock aggregate {params['aggregate_id']!r} is not set up in OMS. Known aggregates: {', '.join(known)}.",
                {"path": "$.aggregate_id"},
            )
        created = db.execute("SELECT 1 FROM sales_channels WHERE id = ?", (params["id"],)).fetchone() is None
        db.execute(
            "INSERT INTO sales_channels (id, name, aggregate_id) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, aggregate_id = excluded.aggregate_id",
            (params["id"], params["name"], params["aggregate_id"]),
        )
    return {"id": params["id"], "name": params["name"], "aggregate_id": params["aggregate_id"], "created": created}
