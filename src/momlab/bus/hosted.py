"""What a hosted MOM can reach, decided from a URL's text alone.

MOM runs in Adobe's cloud, so it can deliver only to URLs the internet can reach (mom-reference.md
5.12, 7.7). A mock started with `hosted=True` (`momlab serve --hosted`) behaves the same way: a
delivery to a loopback, private, link-local or otherwise non-public address, or to a name no public
DNS resolves (`localhost`, a single-label name, `.local`, `.test`, ...), fails with the error a
cloud service would report, without any connection being opened and without any DNS lookup. Names
that look public are left alone; they are delivered to as in the default mode.

Like a real cloud service, the error says only that MOM could not connect (an address, `localhost`)
or could not resolve the name, not which kind of address or name it was: telling loopback, private
and reserved names apart is lab 03's first exercise, so this module does not do it for the learner.

Tunnel URLs (`https://<name>.<region>.tunnel.momlab.test/...`, see momlab.bus.tunnel) count as public:
`route()` hands the bus the local port of the open tunnel behind such a name, in every mode.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from momlab.bus import tunnel

ADVICE = "register a public URL, or open a tunnel (momlab.bus.tunnel.open) and register its URL"

# Names that no public DNS answers for: RFC 6761 special-use names, mDNS, and common intranet suffixes.
LOCAL_SUFFIXES = ("localhost", "local", "internal", "intranet", "lan", "home.arpa", "corp", "test", "example", "invalid")


def host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def address_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host text stands for by itself, or None for a name. Also reads the old
    IPv4 spellings a resolver accepts without DNS (`127.1`, `2130706433`, `0x7f.0.0.1`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))  # parsing only: no network
        except OSError:
            return None
    return None


def _failure(host: str) -> str | None:
    """What MOM's cloud would report for a host it cannot reach; None if it can reach it."""
    if tunnel.is_tunnel_host(host):
        return None
    address = address_of(host)
    if address is not None:
        address = getattr(address, "ipv4_mapped", None) or address
        if address.is_global and not address.is_multicast:
            return None
        return f"connection timed out: MOM cannot reach {host} from the internet ({host} is not a public internet address)"
    if any(host == suffix or host.endswith("." + suffix) for suffix in LOCAL_SUFFIXES) or "." not in host:
        if host == "localhost" or host.endswith(".localhost"):
            return f"connection timed out: MOM cannot reach {host} from the internet ({host} is not a name the public DNS resolves)"
        return f"could not resolve {host}: MOM cannot reach {host} from the internet ({host} is not a name the public DNS resolves)"
    return None


def problem(url: str) -> str | None:
    """Why MOM's cloud could not reach `url`, as the error a delivery would end with; None when the
    URL looks reachable from the internet (a public address, a public-looking name, or a tunnel)."""
    host = host_of(url)
    if not host:
        return f"could not reach {url}: it names no host; {ADVICE}"
    failure = _failure(host)
    return f"{failure}; {ADVICE}" if failure else None


@dataclass
class Route:
    url: str  # where the bus actually sends the request
    host: str | None = None  # the Host header to send, when `url` is a tunnel's local port
    error: str | None = None  # why it cannot be sent at all; the delivery fails with this


def route(url: str, hosted: bool) -> Route:
    """Where a delivery to `url` goes: refused (hosted mode and an address the cloud cannot reach),
    through an open tunnel (a tunnel URL, in any mode), or straight to `url`."""
    host = host_of(url)
    if host and tunnel.is_tunnel_host(host):
        opened = tunnel.lookup(host)
        if opened is None or not opened.running:
            return Route(url, error=f"HTTP 404 from the tunnel service: tunnel {host} not found (it was closed, or never opened in this "
                         "process); open a tunnel and register its URL")
        parts = urlsplit(url)
        local = urlunsplit(("http", f"127.0.0.1:{opened.port}", parts.path or "/", parts.query, ""))
        return Route(local, host=host)
    if hosted:
        reason = problem(url)
        if reason:
            return Route(url, error=reason)
    return Route(url)


def register_warnings(url: str, hosted: bool) -> list[str]:
    """What `magento.service_bus.remote.register` warns about a url (see flows/remotes.py)."""
    host = host_of(url)
    if host and tunnel.is_tunnel_host(host):
        if tunnel.lookup(host) is None:
            return [f"No tunnel {host} is open right now, so deliveries to this url will fail until one is (a new tunnel gets a new url)."]
        return []
    if hosted and host and _failure(host) is not None:
        return [f"MOM is hosted and cannot reach {url} from the internet, so deliveries to it will fail: {ADVICE}."]
    return []
