"""Tunnels: a public-looking URL for a server on this machine, as ngrok gives one.

    wms = momlab.Receiver(secret="s3cret", id="wms").start()    # http://127.0.0.1:53011/mom
    t = momlab.bus.tunnel.open(wms.url, region="eu")                # t.url: https://1f3a9c0b.eu.tunnel.momlab.test/mom
    mom.client.call("magento.service_bus.remote.register", {"id": "wms", "url": t.url, ...})
    t.log_frame()                                               # every request that came through
    t.close()                                                   # the URL stops working

A hosted MOM cannot call `localhost` (see momlab.bus.hosted). The usual fix is a tunnel: a service with a
public name that passes each request it receives on to a server on your machine; you register the
tunnel's URL as the remote's `url` (mom-reference.md 5.12, 7.7). How this one works:

- A tunnel is a small forwarding HTTP proxy on 127.0.0.1 (its own port and thread, like a Receiver).
  It passes each request on to its target unchanged (method, path, query, body and headers, so
  `X-Signature` arrives intact; only hop-by-hop headers and `Host` are not copied; it adds
  `X-Forwarded-Host`/`-Proto`/`-For`) and passes the answer back. The path is the caller's: a tunnel
  to `http://127.0.0.1:8001/mom` forwards `/mom` to `/mom` and `/x` to `/x`; `url` is the public name
  plus the target's path, ready to register.
- Its name is `<name>.<region>.tunnel.momlab.test`. `.test` is reserved (RFC 6761): no public DNS
  answers for it, and nothing here asks one. The bus resolves such names itself, through the
  registry of tunnels open in this Python process (`lookup`), and sends the delivery to that tunnel's
  local port. So a tunnel serves a mock running in the same process: `momlab.start()` in a notebook,
  or `momlab serve --tunnel URL`, which opens the tunnel inside the serve process.
- The public URL says `https`, as a real tunnel's does (its edge ends TLS); `http` works too. The
  mock has no TLS to do: it speaks plain HTTP to the tunnel's local port.
- Closing a tunnel frees its name: deliveries to its URL then fail with an HTTP 404 from the tunnel
  service, as a real one answers for a name nobody holds. A new tunnel gets a new random name, so
  register again; pass `name=` to keep the same name each time (like a reserved domain).
- A tunnel forwards only to this machine (127.0.0.1, localhost or [::1]): that is what it is for.
- `latency=` adds that many seconds to each request, to imitate a tunnel far from MOM: Adobe's KB
  article describes MOM timing out on an ngrok URL in a distant region, fixed by a nearer region.
"""

from __future__ import annotations

import atexit
import html
import http.client
import ipaddress
import math
import re
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from momlab.bus.server import ServerThread

if TYPE_CHECKING:
    import pandas as pd

DOMAIN = "tunnel.momlab.test"
REGIONS = ("us", "eu", "ap", "au", "sa", "jp", "in")  # "us" is the default, as ngrok's is
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
FORWARD_TIMEOUT = 30.0
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")

_lock = threading.Lock()
_open: dict[str, Tunnel] = {}  # public host -> open tunnel
_used: set[str] = set()  # random names are never handed out twice in a process


def is_tunnel_host(host: str | None) -> bool:
    return host is not None and host.rstrip(".").lower().endswith("." + DOMAIN)


def lookup(host: str) -> Tunnel | None:
    """The open tunnel behind a public host name, if any."""
    with _lock:
        return _open.get(host.rstrip(".").lower())


def tunnels() -> list[Tunnel]:
    with _lock:
        return list(_open.values())


class Tunnel:
    def __init__(self, target: str | int, region: str = "us", latency: float = 0.0, name: str | None = None):
        self.origin, self.path = _target(target)
        if region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)} (the tunnel's location), got {region!r}.")
        if not (isinstance(latency, (int, float)) and math.isfinite(latency) and 0 <= latency <= 60):
            raise ValueError(f"latency is the seconds added to each request: a number from 0 to 60, got {latency!r}.")
        if name is not None and (not isinstance(name, str) or not _NAME.fullmatch(name)):
            raise ValueError(f"name must be a DNS label: lower-case letters, digits and inner hyphens, 1-63 characters; got {name!r}.")
        self.region = region
        self.latency = float(latency)
        self._name = name
        self.name: str | None = None
        self.log: list[dict[str, Any]] = []
        self._server: ServerThread | None = None

    # -- running --------------------------------------------------------------------------------
    def start(self) -> Tunnel:
        if self.running:
            return self
        with _lock:
            name = self._name or _fresh_name()
            host = f"{name}.{self.region}.{DOMAIN}"
            if host in _open:
                raise ValueError(f"A tunnel named {host} is already open; close it first, or choose another name.")
            self._server = ServerThread(self._app(), "127.0.0.1", 0, name=f"momlab-tunnel-{name}").start()
            self.name = name
            _used.add(name)
            _open[host] = self
        return self

    def close(self) -> None:
        """Stop forwarding. The public URL stops working; a new tunnel gets a new one."""
        with _lock:
            if self.host is not None and _open.get(self.host) is self:
                del _open[self.host]
        if self._server is not None:
            self._server.stop()
            self._server = None

    stop = close

    def __enter__(self) -> Tunnel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def host(self) -> str | None:
        return None if self.name is None else f"{self.name}.{self.region}.{DOMAIN}"

    @property
    def public_url(self) -> str:
        if self.name is None:
            raise RuntimeError("The tunnel is not open: call .start(), or use momlab.bus.tunnel.open(target).")
        return f"https://{self.host}"

    @property
    def url(self) -> str:
        """The URL to register: the public name plus the target's path."""
        return self.public_url + self.path

    @property
    def target(self) -> str:
        return self.origin + self.path

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("The tunnel is closed.")
        return self._server.port

    @property
    def local_url(self) -> str:
        """Where the tunnel listens on this machine (the bus resolves the public name to it)."""
        return f"http://127.0.0.1:{self.port}"

    def log_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.log, columns=["at", "method", "path", "status", "ms", "x_signature", "error"])

    def __repr__(self) -> str:
        state = "open" if self.running else "closed"
        public = f"https://{self.host}{self.path}" if self.name else "(not started)"
        return f"<momlab tunnel {public} -> {self.target} ({state})>"

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(repr(self))}</code>"

    # -- forwarding -----------------------------------------------------------------------------
    def _app(self) -> Starlette:
        async def forward(request: Request) -> Response:
            body = await request.body()
            path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
            if request.url.query:
                path += "?" + request.url.query
            client = request.client.host if request.client else "127.0.0.1"
            return await run_in_threadpool(self._forward, request.method, path, request.headers.raw, body, client)

        return Starlette(routes=[Route("/{rest:path}", forward, methods=METHODS)])

    def _forward(self, method: str, path: str, raw_headers: list[tuple[bytes, bytes]], body: bytes, client: str) -> Response:
        entry: dict[str, Any] = {"at": time.strftime("%H:%M:%S"), "method": method, "path": path, "status": None, "ms": None,
                 "x_signature": None, "error": None}
        started = time.monotonic()
        headers: list[tuple[str, str]] = []
        received_host = None
        for key, value in raw_headers:
            name, text = key.decode("latin-1"), value.decode("latin-1")
            if name.lower() == "host":
                received_host = text
            if name.lower() == "x-signature":
                entry["x_signature"] = text
            if name.lower() not in HOP_BY_HOP:
                headers.append((_canonical(name), text))
        parts = urlsplit(self.origin)
        headers += [("Host", parts.netloc), ("X-Forwarded-Host", received_host or self.host or ""),
                    ("X-Forwarded-Proto", "https"), ("X-Forwarded-For", client)]
        if self.latency:
            time.sleep(self.latency)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=FORWARD_TIMEOUT)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, text in headers:
                connection.putheader(name, text)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            answer = connection.getresponse()
            data = answer.read()
            status, answer_headers = answer.status, answer.getheaders()
        except (OSError, http.client.HTTPException) as exc:
            reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else (str(exc) or type(exc).__name__)
            message = (f"momlab tunnel {self.host} could not reach {self.origin}: {reason}. Is your local server running, "
                       "on that port? (The tunnel itself is up.)")
            entry.update(status=502, error=message, ms=round((time.monotonic() - started) * 1000))
            self.log.append(entry)
            return JSONResponse({"error": {"code": 502, "message": message}}, 502)
        finally:
            connection.close()
        entry.update(status=status, ms=round((time.monotonic() - started) * 1000))
        self.log.append(entry)
        response = Response(content=data, status_code=status)
        kept = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer_headers if k.lower() not in HOP_BY_HOP]
        response.raw_headers = kept + [(b"content-length", str(len(data)).encode())]
        return response


def open(target: str | int, region: str = "us", latency: float = 0.0, name: str | None = None) -> Tunnel:
    """Open a tunnel to a server on this machine and return it; register `tunnel.url` with the bus.

    `target` is the server's URL (e.g. a Receiver's `.url`, http://127.0.0.1:8001/mom) or just its
    port. `region` only goes into the name (default "us"); `latency` adds seconds to each request.
    """
    return Tunnel(target, region=region, latency=latency, name=name).start()


def close_all() -> None:
    for opened in tunnels():
        opened.close()


def _canonical(name: str) -> str:
    """X-Signature, not x-signature: the server in front of the tunnel hands names on lower-cased;
    HTTP says case does not matter, but a receiver may look a header up by its usual spelling."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _fresh_name() -> str:
    while True:
        name = secrets.token_hex(4)
        if name not in _used:
            return name


def _target(target: str | int) -> tuple[str, str]:
    """(origin, path) of a tunnel's target, which must be an http server on this machine."""
    example = "e.g. http://127.0.0.1:8001/mom, a Receiver's .url, or just a port such as 8001"
    if isinstance(target, bool) or not isinstance(target, (str, int)):
        raise ValueError(f"A tunnel's target is the URL of a server on this machine ({example}); got {target!r}.")
    if isinstance(target, int) or target.strip().isdigit():
        port = int(target)
        if not 0 < port < 65536:
            raise ValueError(f"{target!r} is not a port: use 1-65535.")
        return f"http://127.0.0.1:{port}", ""
    text = target.strip()
    try:
        parts = urlsplit(text)
        given_port = parts.port
    except ValueError:
        raise ValueError(f"{target!r} is not a URL a tunnel can forward to ({example}).") from None
    if parts.scheme == "https":
        raise ValueError(f"{target!r}: a tunnel forwards plain HTTP to the local server; give its http:// URL ({example}).")
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"{target!r} is not an http URL with a host ({example}).")
    host = parts.hostname.rstrip(".").lower()
    if host != "localhost":
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = False
        if not local:
            raise ValueError(f"A tunnel exposes a server on this machine: its target must be on 127.0.0.1, localhost or [::1]; got {host!r}.")
    if given_port == 0:
        raise ValueError(f"{target!r}: port 0 is not a port a server listens on.")
    netloc = f"[{host}]" if ":" in host else host
    origin = f"http://{netloc}:{given_port or 80}"
    return origin, "" if parts.path == "/" else parts.path


atexit.register(close_all)
