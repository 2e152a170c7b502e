"""The connector model's exceptions. Each message says what is wrong and what to do about it."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class."""


class HandlerError(ConnectorError):
    """A message could not be applied to the store (an unmapped aggregate, an unknown order...). The
    processor records it in the Message Log as ERROR; fix the cause, then Retry the message."""


class ConfigError(ConnectorError):
    """The connector's configuration (env.php, websites, integration) does not allow this action."""
