"""Synchronous queries OMS answers from its own state."""

from __future__ import annotations

from momlab.bus.flows import handles


@handles("magento.inventory.source_repository.search")
def search_sources(ctx, params: dict) -> dict:
    """Sources with their aggregates, shaped like the public template. The query language of real
    OMS is not public: the mock filters on an optional `query.id` list and pages with offset/size."""
    query = params.get("query") if isinstance(params.get("query"), dict) else {}
    wanted = query.get("id")
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


def _whole(value, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
