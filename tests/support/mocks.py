"""Helpers around a Mock running in the test's process: its configuration, waiting, and stopping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from momlab.bus.config import Config
from momlab.mock import Mock
from momlab.topics import REGISTER

stopping: list[threading.Thread] = []


def fast_config(**overrides) -> Config:
    """No flow delays, quick retries: a test waits milliseconds, not seconds."""
    settings = {"step_delay": 0.0, "backoff": 0.02, "max_attempts": 3, "delivery_timeout": 10.0}
    settings.update(overrides)
    return Config(**settings)


def stop_soon(server) -> None:
    """Stop a mock or receiver without waiting: uvicorn takes ~0.2 s to wind down, which over a few
    hundred tests would be most of the suite's time. The session joins `stopping` at the end."""
    thread = threading.Thread(target=server.stop, daemon=True)
    thread.start()
    stopping.append(thread)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> Any:
    """Poll until predicate() returns something truthy; return it, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def deliveries(mock: Mock, **filters) -> list[dict]:
    return mock.client.journal(direction="out", **filters)


def wait_delivered(mock: Mock, method: str, count: int = 1, timeout: float = 10.0, **filters) -> list[dict]:
    def done():
        rows = [r for r in deliveries(mock, method=method, **filters) if r["status"] == "delivered"]
        return rows if len(rows) >= count else None

    return wait_for(done, timeout, f"{count} delivered {method}")


def register(mock: Mock, id: str, url: str, subscribes: list[str], secret: str | None = "s3cret") -> dict:
    params = {"id": id, "url": url, "subscribes": subscribes}
    if secret is not None:
        params["secret"] = secret
    return mock.client.call(REGISTER, params)
