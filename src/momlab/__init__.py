"""momlab: a mock Magento Order Management bus and the library behind the course's notebooks."""

from . import tunnel  # momlab.tunnel.open(url): a public-looking URL for a server on this machine
from .client import MomClient, MomError
from .mock import Mock, start
from .receiver import Receiver

__all__ = ["Mock", "MomClient", "MomError", "Receiver", "start", "tunnel"]
__version__ = "0.1.0"
