"""The addresses `forge-tui serve` answers to.

A browser names the address it asked in the Host header. The server answers only to its own
addresses (the public URL, the bound address, and the loopback names when it listens on loopback or
on every interface), which also turns away a page whose DNS name was rebound to this machine. The page
it sends links its websocket and files under the address the browser used, so a server bound to
0.0.0.0 works from every name it answers to instead of pointing the page at `ws://0.0.0.0`.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORTS = {"http": 80, "https": 443}
HostPort = tuple[str, int | None]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Listening on every interface (aiohttp reads an empty host the same way)."""
    return host in ("", "0.0.0.0", "::")


def url_host(host: str) -> str:
    """A host as a URL writes it: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host else host


def _plain_ip(address: str) -> str:
    """An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d; browsers write a.b.c.d."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address.lower()
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def split_host(value: str) -> HostPort | None:
    """('example.org', 8000) from a Host header such as 'example.org:8000' or '[::1]:8000', with port
    None when it names none (the scheme's default); None when it is not a plain host and port."""
    if not value or any(c in value for c in "/\\@?# \t"):
        return None
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return _plain_ip(parts.hostname), port


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class Addresses:
    bind: str
    port: int
    public_url: str | None = None
    machine_name: str = field(default_factory=lambda: socket.gethostname().lower())

    @property
    def printed_url(self) -> str:
        """The address printed at start: the public URL, else the bound address (loopback for a
        wildcard bind, which answers there too)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.bind == "localhost" or is_wildcard(self.bind) else self.bind
        return f"http://{url_host(host)}:{self.port}"

    @property
    def secure(self) -> bool:
        return self.public_url is not None and urlsplit(self.public_url).scheme == "https"

    def _is_public(self, asked: HostPort) -> bool:
        parts = urlsplit(self.public_url or "")
        if not parts.hostname or asked[0] != _plain_ip(parts.hostname):
            return False
        default = DEFAULT_PORTS.get(parts.scheme)
        return (asked[1] or default) == (parts.port or default)

    def _answers_to(self, asked: HostPort, local_ip: str | None) -> bool:
        host, port = asked
        if (port or 80) != self.port:
            return False
        names = {_plain_ip(self.bind)} if not is_wildcard(self.bind) else set()
        if is_loopback(self.bind) or is_wildcard(self.bind):
            names.update(LOOPBACK_NAMES)
        if is_wildcard(self.bind):
            # Another machine reaches this one by the address the connection came in on, or by name.
            names.add(self.machine_name)
            if local_ip:
                names.add(_plain_ip(local_ip))
        return host in names

    def base_for(self, host_header: str | None, local_ip: str | None = None) -> str | None:
        """The base URL for the page of a request with this Host header (the public URL when it names
        that), or None when this server does not answer to it. `local_ip` is the address the
        connection came in on."""
        asked = split_host((host_header or "").strip().lower())
        if asked is None:
            return None
        if self.public_url and self._is_public(asked):
            return self.public_url.rstrip("/")
        if self._answers_to(asked, local_ip):
            host, port = asked
            return f"http://{url_host(host)}" + (f":{port}" if port else "")
        return None
