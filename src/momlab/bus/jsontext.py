"""Compact JSON text for what the bus stores, sends and answers.

orjson writes it several times faster than the standard library, which matters on the order path
(each order is written out five or six times: journal rows, deliveries, the answer). The standard
library takes over for the few values orjson refuses: integers beyond 64 bits, non-string keys.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    return dumps_bytes(value).decode("utf-8")


def dumps_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
