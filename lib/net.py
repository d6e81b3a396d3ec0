"""The one guard for outbound fetches the app makes on someone else's word: no loopback, private or local hosts.

Result downloads, each redirect hop, reference-video probes and the callback URL we
hand the provider all pass ``check_url`` (or ask ``is_public_host``), so a link from a
user or a server cannot make this machine open an address on its own network
(169.254.169.254, the router, a database on localhost, ...). Hosts the operator trusts
(``STUDIO_ALLOW_FETCH_HOSTS``; the demo simulator) are passed in as ``allow``.

A host is judged by its name alone: a literal IP address by the table below, and
``localhost`` by name. Other names are not resolved here.

Example:
    >>> is_public_host("example.com"), is_public_host("10.0.0.7"), is_public_host("[::1]")
    (True, False, False)
    >>> check_url("http://127.0.0.1:8501/sim/files/a.mp4", allow=["127.0.0.1"])
    >>> check_url("http://169.254.169.254/latest/meta-data")
    Traceback (most recent call last):
    ...
    lib.net.BlockedAddress: 169.254.169.254 is not a public address (link-local).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from lib.text import shorten

SCHEMES = frozenset({"http", "https"})
LOCAL_NAMES = ("localhost",)  # and every name under them (app.localhost)

# Addresses that are not on the public internet, and what each is called on the screen.
NOT_PUBLIC: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), kind)
    for net, kind in (
        ("0.0.0.0/8", "unspecified"),  # "this network": 0.0.0.0 reaches the machine itself
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),  # shared address space, inside a provider
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),  # cloud metadata services live here
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),  # benchmarking networks
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # future use, and the broadcast address 255.255.255.255
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "reserved"),  # the deprecated IPv4-compatible ::a.b.c.d
        ("100::/64", "reserved"),  # discard-only
        ("fc00::/7", "private"),  # unique local
        ("fe80::/10", "link-local"),
        ("fec0::/10", "private"),  # the deprecated site-local
        ("ff00::/8", "multicast"),
    )
)

_SHORTHAND_V4 = re.compile(r"[0-9a-fx.]+")


class BlockedAddress(ValueError):
    """An outbound fetch refused before any packet was sent: not http(s), or not a public host."""

    def __init__(self, message: str, *, host: str | None = None) -> None:
        super().__init__(message)
        self.host = host


def normal_host(host: str) -> str:
    """A host as compared here: lower case, no IPv6 brackets, no trailing dot.

    >>> normal_host("[::1]"), normal_host("Example.COM.")
    ('::1', 'example.com')
    """
    return host.strip().strip("[]").lower().rstrip(".")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        # Shorthand IPv4 literals resolvers still accept: 127.1, 2130706433, 0x7f.0.0.1.
        if not _SHORTHAND_V4.fullmatch(host):
            return None
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def host_kind(host: str) -> str | None:
    """Why ``host`` is not public (``"loopback"``, ``"private"``, ...), or None when nothing says it is not.

    >>> host_kind("localhost"), host_kind("100.64.0.1"), host_kind("8.8.8.8")
    ('loopback', 'carrier-grade NAT', None)
    """
    name = normal_host(host)
    if not name:
        return "empty"
    if any(name == local or name.endswith("." + local) for local in LOCAL_NAMES):
        return "loopback"
    ip = _ip(name)
    if ip is None:
        return None
    return next((kind for net, kind in NOT_PUBLIC if net.version == ip.version and ip in net), None)


def is_public_host(host: str) -> bool:
    """True unless ``host`` is empty, ``localhost`` or an address off the public internet (no DNS lookup)."""
    return host_kind(host) is None


def check_url(url: str, *, allow: Iterable[str] = ()) -> None:
    """Raise ``BlockedAddress`` unless ``url`` is http(s) to a public host or to a host in ``allow``."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = None
    if parts is None or parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise BlockedAddress("The link is not an http(s) address.")
    host = normal_host(parts.hostname)
    if host in {normal_host(h) for h in allow}:
        return
    kind = host_kind(host)
    if kind is not None:
        raise BlockedAddress(f"{shorten(host, 80)} is not a public address ({kind}).", host=host)
