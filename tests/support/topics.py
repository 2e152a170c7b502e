"""The MOM message names the tests send and expect (each one is in the catalog: tests/test_catalog.py)."""

from __future__ import annotations

ORDER_CREATE = "magento.sales.order_management.create"
UPDATED = "magento.sales.order_management.updated"
REQUEST_SHIPMENT = "magento.logistics.warehouse_management.request_shipment"
LINES_SHIPPED = "magento.logistics.warehouse_management.lines_shipped"
LINES_DECLINED = "magento.logistics.warehouse_management.lines_declined"
CHANGE_STATUS = "magento.logistics.shipment_request_management.lines_change_status"
SHIPMENT_DONE = "magento.logistics.fulfillment_management.customer_shipment_done"
STOCK_UPDATE = "magento.inventory.source_stock_management.update"
AGGREGATE_UPDATED = "magento.inventory.aggregate_stock_management.updated"
SHIPMENT_SEARCH = "magento.logistics.shipment_request_repository.search"
SOURCE_SEARCH = "magento.inventory.source_repository.search"
REGISTER = "magento.service_bus.remote.register"
UNREGISTER = "magento.service_bus.remote.unregister"
AUTHORIZE_RETURN = "magento.postsales.return_management.authorize"
RETURN_UPDATED = "magento.postsales.return_management.updated"
REFUND_UPDATED = "magento.postsales.refund_management.updated"
PAYMENT_REFUND = "magento.payments.payments_management.refund"

ALL = (ORDER_CREATE, UPDATED, REQUEST_SHIPMENT, LINES_SHIPPED, LINES_DECLINED, CHANGE_STATUS, SHIPMENT_DONE,
       STOCK_UPDATE, AGGREGATE_UPDATED, SHIPMENT_SEARCH, SOURCE_SEARCH, REGISTER, UNREGISTER, AUTHORIZE_RETURN, RETURN_UPDATED, REFUND_UPDATED,
       PAYMENT_REFUND)
