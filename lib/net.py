"""The one guard for outbound fetches the app makes on someone else's word: no loopback, private or local hosts.

Result downloads, each redirect hop, reference-video probes and the callback URL we
hand the provider all pass this guard, so a link from a user or a server cannot make
this machine open an address on its own network (169.254.169.254, the router, a
database on localhost, ...). Hosts the operator trusts (``STUDIO_ALLOW_FETCH_HOSTS``;
the demo simulator) are passed in as ``allow``.

Two layers, one table of addresses (``NOT_PUBLIC``):

- ``check_url`` judges a link by its shape alone: http(s), and a host that is not a
  non-public literal (``10.0.0.7``, ``[::1]``, ``127.1``) or ``localhost``. No packet, no
  DNS: cheap enough for every rerun of a page.
- ``GuardedTransport`` (``guarded_client``) is what actually fetches. It resolves a
  name once, refuses it unless every address it resolves to is public (or it does not
  resolve at all), and connects to the address it checked, so a second DNS answer
  (rebinding) cannot slip past; https still verifies the certificate of the name
  (SNI and ``Host`` are the name's).

Example:
    >>> is_public_host("example.com"), is_public_host("10.0.0.7"), is_public_host("[::1]")
    (True, False, False)
    >>> check_url("http://127.0.0.1:8501/sim/files/a.mp4", allow=["127.0.0.1"])
    >>> check_url("http://169.254.169.254/latest/meta-data")
    Traceback (most recent call last):
    ...
    lib.net.BlockedAddress: 169.254.169.254 is not a public address (link-local).
    >>> fake_dns = {"cdn.example": ["93.184.216.34"], "rebind.example": ["93.184.216.34", "127.0.0.1"]}
    >>> pinned_address("cdn.example", 443, resolve=lambda host, port: fake_dns[host])
    '93.184.216.34'
    >>> pinned_address("rebind.example", 443, resolve=lambda host, port: fake_dns[host])
    Traceback (most recent call last):
    ...
    lib.net.BlockedAddress: rebind.example resolves to 127.0.0.1, which is not a public address (loopback).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from lib.messages import say
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
        ("192.0.2.0/24", "reserved"),  # documentation (TEST-NET-1)
        ("198.18.0.0/15", "reserved"),  # benchmarking networks
        ("198.51.100.0/24", "reserved"),  # documentation (TEST-NET-2)
        ("203.0.113.0/24", "reserved"),  # documentation (TEST-NET-3)
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # future use, and the broadcast address 255.255.255.255
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "reserved"),  # the deprecated IPv4-compatible ::a.b.c.d
        ("100::/64", "reserved"),  # discard-only
        ("2001::/32", "reserved"),  # Teredo tunnels: the address inside cannot be judged
        ("2001:db8::/32", "reserved"),  # documentation
        ("fc00::/7", "private"),  # unique local
        ("fe80::/10", "link-local"),
        ("fec0::/10", "private"),  # the deprecated site-local
        ("ff00::/8", "multicast"),
    )
)

# IPv6 prefixes that carry an IPv4 address, which is what gets reached: judged as that address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_SHORTHAND_V4 = re.compile(r"[0-9a-fx.]+")

# host, port -> the addresses it resolves to (strings); ``resolve`` unless a test fakes DNS.
Resolver = Callable[[str, int], list[str]]


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
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
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
        raise BlockedAddress(say("not_http"))
    host = normal_host(parts.hostname)
    if host in {normal_host(h) for h in allow}:
        return
    kind = host_kind(host)
    if kind is not None:
        raise BlockedAddress(say("not_public", host=shorten(host, 80), kind=kind), host=host)


# --- resolving once, connecting to what was checked ---------------------------------------------


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver), in its order, without repeats."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in answers))


def pinned_address(host: str, port: int, *, allow: Iterable[str] = (), resolve: Resolver = resolve) -> str:
    """The one address to connect to for ``host``, resolved once; ``BlockedAddress`` unless it is safe.

    A host in ``allow`` is returned as it is (the operator trusts it). Otherwise every
    address the name resolves to must be public: a name that also answers 127.0.0.1
    is refused, not tried in the hope of a better answer.
    """
    name = normal_host(host)
    if name in {normal_host(h) for h in allow}:
        return host
    kind = host_kind(name)
    if kind is not None:
        raise BlockedAddress(say("not_public", host=shorten(name, 80), kind=kind), host=name)
    literal = _ip(name)
    if literal is not None:
        return str(literal)
    try:
        answers = [a.split("%", 1)[0] for a in resolve(name, port)]
    except (OSError, UnicodeError):
        answers = []
    if not answers:
        raise BlockedAddress(say("unresolved", host=shorten(name, 80)), host=name)
    for answer in answers:
        kind = host_kind(answer) or (None if _ip(answer) is not None else "not an address")
        if kind is not None:
            said = say("resolves_not_public", host=shorten(name, 80), address=shorten(answer, 60), kind=kind)
            raise BlockedAddress(said, host=name)
    return answers[0]


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, loaded once (reading the CA bundle takes a while)."""
    return httpx.create_ssl_context()


class PinnedBackend(httpcore.NetworkBackend):
    """An httpcore network backend that connects only to the address ``pinned_address`` checked.

    httpcore still starts TLS with the URL's name (SNI, certificate check) and sends its
    ``Host``; only the TCP connection goes to the checked address instead of a second lookup.
    """

    def __init__(
        self,
        *,
        allow: Iterable[str] = (),
        resolve: Resolver = resolve,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.allow = tuple(allow)
        self.resolve = resolve
        self.inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        address = pinned_address(host, port, allow=self.allow, resolve=self.resolve)
        return self.inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise BlockedAddress(say("no_local_socket"))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport for fetches on someone else's word: ``check_url`` on every request, then
    a connection only to the address that was checked (``PinnedBackend``). Never uses a proxy.

    ``BlockedAddress`` leaves ``client.get(...)`` as it is (not an ``httpx`` error), before any
    packet is sent to the refused address.
    """

    def __init__(
        self,
        *,
        allow: Iterable[str] = (),
        resolve: Resolver = resolve,
        backend: httpcore.NetworkBackend | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=20, max_keepalive_connections=5)
        ssl_context = _ssl_context()
        super().__init__(verify=ssl_context, limits=limits)
        self.allow = tuple(allow)
        # httpx builds its httpcore pool without a way to choose the network backend;
        # this pool is the same one with the pinning backend in it.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(allow=self.allow, resolve=resolve, inner=backend),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_url(str(request.url), allow=self.allow)
        return super().handle_request(request)


def guarded_client(
    *,
    allow: Iterable[str] = (),
    timeout: httpx.Timeout | float = 30.0,
    resolve: Resolver = resolve,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` that fetches only through the guard and follows no redirect by itself.

    A caller follows redirects hop by hop (each one is checked again when it is fetched).
    ``transport`` replaces the guarded one (tests hand in an ``httpx.MockTransport``).
    """
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        transport=transport or GuardedTransport(allow=allow, resolve=resolve),
    )
