"""Reading a request body with the bus's 1 MiB cap, shared by every route that takes one."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from momlab.bus.jsonrpc import LIMIT_EXCEEDED, MAX_BODY_BYTES, RpcError, decode


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


async def read_json(request: Request) -> Any:
    """The body as strict JSON, or RpcError: -32006 once it is known to be over 1 MiB, -32700 when it is not JSON."""
    body = await read_capped(request)
    if body is None:
        raise RpcError(LIMIT_EXCEEDED, "The body is over 1 MiB.", {"path": "$"})
    return decode(body)
