"""The store's door for the bus: where OMS's messages for Magento Commerce arrive.

The connector registers this URL as its `url`. Each delivery is checked against the shared `secret`
of env.php (the bus signs with it; header as in the mock, [mock]), stored in the Message Log as NEW
(a delivery the bus repeats, with the same id, is stored once) and acknowledged. With the
"sync" processing setting it is also processed at once; with "async" it waits for
`oms:messages:process`. Either way a failure to *apply* it shows in the Message Log, not on the bus:
the message is safe in the store, and Retry is the way to apply it later. The store answers
MIB's probe `OPTIONS` with `X-Magento-Service-Bus: *` [code]. The path of the real connector's
endpoint is not public; momlab's is /servicebus [mock].
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response

from momlab.bus import jsonrpc, signing
from momlab.bus.server import Served
from momlab.connector.messagelog import INCOMING
from momlab.connector.processor import HANDLERS
from momlab.receiver import remote_app

PATH = "/servicebus"


class Endpoint(Served):
    path = PATH
    thread_name = "momlab-mcom-endpoint"
    not_running = "The store's endpoint is not running: call connector.start() first."

    def __init__(self, connector):
        self.connector = connector

    def app(self) -> Starlette:
        return remote_app(PATH, self.handle)

    def handle(self, body: bytes, signature: str | None) -> Response:
        connector = self.connector
        try:
            secret = connector.settings.get("secret")
            if not isinstance(secret, str) or not secret or not signing.verify(secret, body, signature):
                raise jsonrpc.RpcError(jsonrpc.UNAUTHORIZED, f"{signing.HEADER} is {'missing' if not signature else 'wrong'}: the delivery is "
                                       "not signed with the serviceBus secret of env.php, so the store refuses it.")
            envelope = jsonrpc.parse(body)
            if not connector.integration_enabled():
                raise jsonrpc.RpcError(-32000, "The integration is disabled in MCOM > Integration: the store accepts no messages from OMS.",
                                       {"path": "$"}, envelope.id)
            if envelope.method not in HANDLERS:
                raise jsonrpc.RpcError(jsonrpc.METHOD_NOT_FOUND, f"The connector does not consume {envelope.method}.", {"path": "$.method"}, envelope.id)
            message_id = connector.receive(envelope.method, envelope.params, None if envelope.id is None else str(envelope.id))
            if envelope.is_notification:
                return Response(status_code=204)
            return JSONResponse(jsonrpc.success(envelope.id, {"message_id": message_id, "stored": message_id is not None, "direction": INCOMING}))
        except jsonrpc.RpcError as error:
            return JSONResponse(jsonrpc.failure(error.request_id, error), error.http_status)
