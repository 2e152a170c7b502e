"""How a bus behaves: one frozen value passed to everything that needs it."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

# Documented demo credentials (README, lab 01). The mock is a local teaching tool: these are not secrets.
DEMO_CLIENT_ID = "momlab"
DEMO_CLIENT_SECRET = "momlab-secret"


def grading() -> bool:
    """True while nbgrader runs a notebook (it sets NBGRADER_EXECUTION to 'autograde' or 'validate')."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


@dataclass(frozen=True)
class Config:
    auth: bool = True
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    token_ttl: float = 3600.0  # seconds a token stays valid
    step_delay: float = 0.2  # seconds between the steps of a flow (e.g. order RECEIVED -> request_shipment)
    max_attempts: int = 5  # deliveries to a remote before it is marked failed
    backoff: float = 0.5  # first retry after this many seconds, doubling each time
    delivery_timeout: float = 5.0  # seconds the bus waits for a remote's answer
    hosted: bool = False  # act as MOM's cloud: deliveries to loopback/private addresses fail (see momlab.bus.hosted)
    # Faults of the bus itself, off unless asked for (lab 05, momlab.faults): a share of deliveries sent
    # twice, or sent after the remote's next one; which ones depends only on fault_seed and the row id.
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    fault_seed: int = 0

    def for_grading(self) -> Config:
        """No waiting while nbgrader grades: its cells time out after 30 s."""
        return replace(self, step_delay=0.0, backoff=min(self.backoff, 0.05))


def default_config(**overrides: Any) -> Config:
    config = replace(Config(), **overrides)
    return config.for_grading() if grading() else config
