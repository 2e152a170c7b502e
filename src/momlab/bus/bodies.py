"""Reading a request body with the bus's 1 MiB cap, shared by every route that takes one."""

from __future__ import annotations

from starlette.requests import Request

from momlab.bus.jsonrpc import MAX_BODY_BYTES


async def read_capped(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The body, or None once it is known to be over `limit` (declared or streamed): the rest is not read."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
