"""momlab: a mock Magento Order Management bus and the library behind the course's notebooks."""

from . import tunnel  # momlab.tunnel.open(url): a public-looking URL for a server on this machine
from .client import MomClient, MomError
from .mock import Mock, start
from .receiver import Receiver

__all__ = ["Mock", "MomClient", "MomError", "Receiver", "progress", "start", "tunnel"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # momlab.progress.run(): imported on first use, so starting the mock does not pay for it
    if name == "progress":
        import importlib

        return importlib.import_module(".progress", __name__)
    raise AttributeError(f"module 'momlab' has no attribute {name!r}")
