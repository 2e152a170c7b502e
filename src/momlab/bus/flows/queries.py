"""Synchronous queries OMS answers from its own state."""

from __future__ import annotations

from typing import Any

from momlab.bus.context import Context
from momlab.bus.flows import handles
from momlab.bus.jsonrpc import Doc


@handles("magento.inventory.source_repository.search")
def search_sources(ctx: Context, params: Doc) -> Doc:
    """Sources with their aggregates, shaped like the public template. The query language of real
    OMS is not public: the mock filters on an optional `query.id` list and pages with offset/size."""
    query = params.get("query")
    wanted = query.get("id") if isinstance(query, dict) else None
    if isinstance(wanted, str):
        wanted = {wanted}
    else:  # the schema leaves `query` free: keep only the ids that are strings
        wanted = {w for w in wanted if isinstance(w, str)} if isinstance(wanted, list) else set()
    offset = _whole(params.get("offset"), 0)
    size = _whole(params.get("size"), 1000)
    links: dict[str, list[str]] = {}
    for source_id, aggregate_id in ctx.db.execute("SELECT source_id, aggregate_id FROM aggregate_sources ORDER BY aggregate_id"):
        links.setdefault(source_id, []).append(aggregate_id)
    rows = [r for r in ctx.db.execute("SELECT id, name, type FROM sources ORDER BY priority, id") if not wanted or r["id"] in wanted]
    items = [
        {
            "id": row["id"],
            "name": row["name"],
            "type": row["type"],
            "timezone": "UTC",
            "aggregate_ids": links.get(row["id"], []),
            "address": {"address_type": "source", "custom_attributes": []},
            "configurations": {"capabilities": {"fulfillment": {"can_ship_to_source": False}, "services": [], "shipping": []}},
        }
        for row in rows[offset : offset + size]
    ]
    return {"items": items, "offset": offset, "size": size, "total": len(rows)}


def _whole(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
