"""The names of the MOM messages the course's code sends and expects, in one place.

Each is a topic of the mock's catalog (`momlab.catalog`, checked by tests/test_catalog.py), spelled
exactly as MOM's public material spells it; how sure each name is, is in the catalog and the labs.
"""

from __future__ import annotations

REGISTER = "magento.service_bus.remote.register"
UNREGISTER = "magento.service_bus.remote.unregister"
ORDER_CREATE = "magento.sales.order_management.create"
UPDATED = "magento.sales.order_management.updated"
PRODUCT_UPDATED = "magento.catalog.product_management.updated"
REQUEST_SHIPMENT = "magento.logistics.warehouse_management.request_shipment"
CHANGE_STATUS = "magento.logistics.shipment_request_management.lines_change_status"
LINES_SHIPPED = "magento.logistics.warehouse_management.lines_shipped"
LINES_DECLINED = "magento.logistics.warehouse_management.lines_declined"
SHIPMENT_DONE = "magento.logistics.fulfillment_management.customer_shipment_done"
SHIPPING_DETAILS = "magento.logistics.carrier_management.request_shipping_details"
SHIPMENT_SEARCH = "magento.logistics.shipment_request_repository.search"
STOCK_UPDATE = "magento.inventory.source_stock_management.update"
AGGREGATE_UPDATED = "magento.inventory.aggregate_stock_management.updated"
SOURCE_SEARCH = "magento.inventory.source_repository.search"
AUTHORIZE_RETURN = "magento.postsales.return_management.authorize"
RETURN_UPDATED = "magento.postsales.return_management.updated"
REFUND_UPDATED = "magento.postsales.refund_management.updated"
PAYMENTS = "magento.payments.payments_management."  # + validate, revalidate, capture, refund or cancel
PAYMENT_REFUND = PAYMENTS + "refund"
