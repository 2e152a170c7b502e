"""The same stack as the mock (Starlette on uvicorn, one thread) with an endpoint that does nothing:
the yardstick the mock's rate is divided by."""

import sys
import threading

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from momlab.bus.server import ServerThread


async def bare(request):
    await request.body()
    return JSONResponse({"jsonrpc": "2.0", "id": 1, "result": {}})


if __name__ == "__main__":
    server = ServerThread(Starlette(routes=[Route("/api", bare, methods=["POST"])]), "127.0.0.1", int(sys.argv[1])).start()
    print(server.url, flush=True)
    threading.Event().wait()
