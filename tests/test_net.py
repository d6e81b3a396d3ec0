"""The outbound-fetch guard: which hosts count as public, and where a guarded fetch connects (no packet is sent)."""

from __future__ import annotations

import socket

import httpcore
import httpx
import pytest

from lib import net
from lib.net import BlockedAddress, check_url, host_kind, is_public_host
from lib.settings import load_settings


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Classification must never resolve or connect: any attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the guard touched the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("localhost", "loopback"),
        ("LOCALHOST.", "loopback"),
        ("app.localhost", "loopback"),
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("127.1", "loopback"),  # shorthand literals resolvers still accept
        ("2130706433", "loopback"),
        ("0x7f.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("10.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::", "unspecified"),
        ("[::]", "unspecified"),
        ("::1", "loopback"),
        ("[::1]", "loopback"),
        ("::127.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped: judged as the IPv4 address
        ("::ffff:192.168.0.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("febf::1", "link-local"),
        ("ff02::1", "multicast"),
        ("", "empty"),
    ],
)
def test_hosts_off_the_public_internet(host, kind):
    assert host_kind(host) == kind
    assert not is_public_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "api.evolink.ai",
        "cdn.example.com.",
        "8.8.8.8",
        "1.1.1.1",
        "100.63.255.255",  # just below the carrier-grade NAT block
        "100.128.0.0",  # just above it
        "172.32.0.1",  # just outside 172.16/12
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "localhost.example.com",  # a real name that merely starts with localhost
    ],
)
def test_public_hosts(host):
    assert host_kind(host) is None and is_public_host(host)


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/v/a.mp4",
        "http://cdn.example.com:8080/a.mp4",
        "HTTPS://CDN.EXAMPLE.COM/a.mp4",
        "https://user:pw@cdn.example.com/a.mp4",
    ],
)
def test_check_url_passes_public_http_links(url):
    assert check_url(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8501/sim/files/a.mp4",
        "http://localhost/a.mp4",
        "https://[::1]:8443/a.mp4",
        "http://169.254.169.254/latest/meta-data",
        "https://user:pw@10.0.0.1/a.mp4",
        "http://0x7f.1/a.mp4",
    ],
)
def test_check_url_refuses_local_hosts_and_names_them(url):
    with pytest.raises(BlockedAddress) as err:
        check_url(url)
    assert "not a public address" in str(err.value) and err.value.host
    assert err.value.host in str(err.value)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://cdn.example.com/a.mp4", "javascript:alert(1)", "//cdn/a", "https://", "", None]
)
def test_check_url_refuses_what_is_not_http(url):
    with pytest.raises(BlockedAddress, match="http"):
        check_url(url)


def test_check_url_refuses_a_malformed_ipv6_literal():
    with pytest.raises(BlockedAddress):
        check_url("http://[::1/a.mp4")


def test_the_allow_list_lets_named_hosts_through_and_nothing_else():
    allow = ["127.0.0.1", "LocalHost."]
    check_url("http://127.0.0.1:8765/files/a.mp4", allow=allow)
    check_url("http://localhost:8501/sim/files/a.mp4", allow=allow)
    check_url("http://[::1]/a.mp4", allow=["[::1]"])
    with pytest.raises(BlockedAddress):
        check_url("http://127.0.0.2/a.mp4", allow=allow)  # a host, not a network
    with pytest.raises(BlockedAddress):
        check_url("file:///etc/passwd", allow=["", "127.0.0.1"])  # the scheme rule holds regardless


def test_an_absurdly_long_host_is_shortened_in_the_message():
    host = "a." * 200 + "localhost"
    with pytest.raises(BlockedAddress) as err:
        check_url(f"http://{host}/x")
    assert len(str(err.value)) < 200


# --- the allow-list setting ----------------------------------------------------------------------


def test_allowed_fetch_hosts_come_from_the_environment():
    env = {"STUDIO_ALLOW_FETCH_HOSTS": " 127.0.0.1, Media.Internal. ,,[::1] "}
    assert load_settings(env=env, secrets_path=None).allowed_fetch_hosts == ("127.0.0.1", "media.internal", "::1")
    assert load_settings(env={}, secrets_path=None).allowed_fetch_hosts == ()


def test_net_is_the_only_home_of_the_address_table():
    from pathlib import Path

    lib = Path(net.__file__).parent
    owners = [str(p.relative_to(lib)) for p in lib.rglob("*.py") if "ip_network(" in p.read_text()]
    assert owners == ["net.py"]


# --- resolving once and connecting to the checked address (DNS and sockets faked) -----------------

PUBLIC = "93.184.216.34"


class FakeDNS:
    """Answers from a table; counts lookups; a list of tables answers differently each time (rebinding)."""

    def __init__(self, *answers: dict[str, list[str]]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        table = self.answers[min(len(self.lookups), len(self.answers)) - 1]
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]


class FakeStream(httpcore.NetworkStream):
    """A connection that answers one canned HTTP response; nothing leaves the process."""

    def __init__(self, log: list) -> None:
        self.log = log
        self.sent = b""
        self.answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.sent += buffer
        self.log.append(("sent", self.sent))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        answer, self.answer = self.answer, b""
        return answer

    def close(self) -> None:
        pass

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        self.log.append(("tls", server_hostname))
        return self

    def get_extra_info(self, info):
        return None


class FakeBackend(httpcore.NetworkBackend):
    """Records where each connection would go."""

    def __init__(self) -> None:
        self.log: list = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.log.append(("connect", host, port))
        return FakeStream(self.log)


def _client(dns: FakeDNS, backend: FakeBackend, allow=()) -> httpx.Client:
    return httpx.Client(transport=net.GuardedTransport(allow=allow, resolve=dns, backend=backend))


def test_a_name_is_resolved_once_and_the_connection_goes_to_that_address():
    dns, backend = FakeDNS({"cdn.example": [PUBLIC]}), FakeBackend()
    with _client(dns, backend) as client:
        r = client.get("http://cdn.example:8080/v.mp4")
    assert r.status_code == 200 and r.text == "ok"
    assert dns.lookups == ["cdn.example"]
    assert ("connect", PUBLIC, 8080) in backend.log
    sent = next(data for kind, data, *_ in backend.log if kind == "sent")
    assert b"Host: cdn.example:8080" in sent  # the name, not the address


def test_https_keeps_the_name_for_sni_while_connecting_to_the_checked_address():
    dns, backend = FakeDNS({"cdn.example": [PUBLIC]}), FakeBackend()
    with _client(dns, backend) as client:
        client.get("https://cdn.example/v.mp4")
    assert ("connect", PUBLIC, 443) in backend.log
    assert ("tls", "cdn.example") in backend.log


def test_dns_rebinding_cannot_slip_past():
    # First answer public, every later one loopback: only the first lookup is ever used.
    dns, backend = FakeDNS({"rebind.example": [PUBLIC]}, {"rebind.example": ["127.0.0.1"]}), FakeBackend()
    with _client(dns, backend) as client:
        client.get("http://rebind.example/a.mp4")
    assert dns.lookups == ["rebind.example"]
    assert [entry[1] for entry in backend.log if entry[0] == "connect"] == [PUBLIC]


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        (["127.0.0.1"], "resolves to 127.0.0.1, which is not a public address (loopback)"),
        ([PUBLIC, "10.1.2.3"], "resolves to 10.1.2.3, which is not a public address (private)"),
        (["169.254.169.254"], "(link-local)"),
        (["::1"], "(loopback)"),
        (["fe80::1%eth0"], "(link-local)"),
        (["::ffff:192.168.1.1"], "(private)"),
        (["64:ff9b::7f00:1"], "(loopback)"),  # NAT64: the IPv4 address inside is what gets reached
        (["2002:a00:1::1"], "(private)"),  # 6to4 of 10.0.0.1
        (["224.0.0.251"], "(multicast)"),
        (["240.0.0.1"], "(reserved)"),
        (["0.0.0.0"], "(unspecified)"),
        ([], "could not be resolved"),
    ],
)
def test_names_that_resolve_to_private_addresses_are_refused_before_connecting(answers, words):
    dns, backend = FakeDNS({"cdn.example": answers}), FakeBackend()
    with _client(dns, backend) as client, pytest.raises(BlockedAddress) as err:
        client.get("http://cdn.example/v.mp4")
    assert words in str(err.value)
    assert backend.log == []


def test_an_unresolvable_name_is_refused():
    dns, backend = FakeDNS({}), FakeBackend()
    with _client(dns, backend) as client, pytest.raises(BlockedAddress, match="could not be resolved"):
        client.get("http://nowhere.example/v.mp4")
    assert backend.log == []


@pytest.mark.parametrize("url", ["http://127.0.0.1/a.mp4", "http://[::1]/a", "http://localhost/a", "ftp://x.example/"])
def test_literals_and_schemes_are_refused_without_a_lookup(url):
    dns, backend = FakeDNS({}), FakeBackend()
    with _client(dns, backend) as client, pytest.raises(BlockedAddress):
        client.get(url)
    assert dns.lookups == [] and backend.log == []


def test_an_allowed_host_is_connected_by_name_without_judging_its_addresses():
    dns, backend = FakeDNS({}), FakeBackend()
    with _client(dns, backend, allow=["media.lan", "127.0.0.1"]) as client:
        client.get("http://media.lan/a.mp4")
        client.get("http://127.0.0.1:8765/a.mp4")
    assert dns.lookups == []
    assert [e[1:] for e in backend.log if e[0] == "connect"] == [("media.lan", 80), ("127.0.0.1", 8765)]


def test_a_public_literal_is_connected_as_it_is():
    dns, backend = FakeDNS({}), FakeBackend()
    with _client(dns, backend) as client:
        client.get(f"http://{PUBLIC}/a.mp4")
    assert dns.lookups == [] and ("connect", PUBLIC, 80) in backend.log


def test_the_guarded_client_follows_no_redirect_by_itself():
    client = net.guarded_client(resolve=FakeDNS({}))
    assert client.follow_redirects is False
    client.close()
