"""A model of the Magento Commerce connector ("MCOM connector") on its side of the bus.

Magento itself is PHP and not part of the course; this package models what the connector does, on a
SQLite database of its own, so that every decision the exam asks about can be practised:

- `envphp` / `phparray`: app/etc/env.php's serviceBus block, read safely (never run) and checked;
- `Connector`: registration (oms:service-bus:register), the store's endpoint, the Message Log
  (mcom_api_messages, oms:messages:process, Retry), Manage Stock Aggregates, orders, shipments and
  invoices, credit memos, the catalog and its full export in chunks of 5,000;
- `extensions`: plugins and observers, the connector's extension points;
- `composer`, `modules`, `procedures`: install, update and back-office checks on composer.json,
  auth.json, env.php and config.php (labs 06 and 08).
"""

from momlab.connector.catalog import BATCH_SIZE
from momlab.connector.connector import SUBSCRIBES, Connector
from momlab.connector.envphp import Finding, Report, check
from momlab.connector.errors import ConfigError, ConnectorError, HandlerError
from momlab.connector.extensions import EVENTS, TARGETS, ExtensionError
from momlab.connector.messagelog import ERROR, INCOMING, NEW, OUTGOING, SUCCESS
from momlab.connector.phparray import PhpReadError, read
from momlab.connector.processor import ProcessInterrupted

__all__ = [
    "BATCH_SIZE", "EVENTS", "ERROR", "INCOMING", "NEW", "OUTGOING", "SUBSCRIBES", "SUCCESS", "TARGETS",
    "ConfigError", "Connector", "ConnectorError", "ExtensionError", "Finding", "HandlerError", "PhpReadError",
    "ProcessInterrupted", "Report", "check", "read",
]
