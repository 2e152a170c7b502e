"""Timestamps as ISO 8601 text in UTC: to the second in messages, to the millisecond in logs and views."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime


def iso_seconds(timestamp: float) -> str:
    """Whole seconds, e.g. 2026-12-06T10:00:00+00:00: the precision of MOM's message fields."""
    return _second(math.floor(timestamp))


@functools.lru_cache(maxsize=16)  # a flow stamps several messages within the same second
def _second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).isoformat(timespec="seconds")


def iso_millis(timestamp: float | None) -> str | None:
    """Milliseconds, e.g. 2026-12-06T10:00:00.123+00:00; None stays None."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
