"""momlab: a mock Magento Order Management bus and the library behind the course's notebooks.

Three parts (see README, "Architecture"):
- `momlab.bus`: the mock MOM server (HTTP edge, envelope, auth, catalog, store, journal, delivery, flows).
- the learner's library, here at the top: `start`, `MomClient`, `Receiver`, builders, stock tools, widgets.
- `momlab.course`: the course's tooling (test-cell helpers, exam, progress, the classroom).
"""

from __future__ import annotations

import importlib

from momlab.client import MomClient, MomError
from momlab.mock import Mock, start
from momlab.receiver import Receiver

__all__ = ["Mock", "MomClient", "MomError", "Receiver", "progress", "start", "tunnel"]
__version__ = "0.1.0"

# Modules a notebook imports by their short name (`from momlab import catalog, grading`) that live in
# bus/ or course/. Imported on first use, so starting the mock does not pay for the course's tooling.
SHORT_NAMES = {
    "catalog": "momlab.bus.catalog",
    "hosted": "momlab.bus.hosted",
    "inventory": "momlab.bus.stock_levels",
    "tunnel": "momlab.bus.tunnel",
    "exam": "momlab.course.exam",
    "exam_ui": "momlab.course.exam_ui",
    "grading": "momlab.course.grading",
    "progress": "momlab.course.progress",
}


def __getattr__(name: str):
    if name in SHORT_NAMES:
        return importlib.import_module(SHORT_NAMES[name])
    raise AttributeError(f"module 'momlab' has no attribute {name!r}")
