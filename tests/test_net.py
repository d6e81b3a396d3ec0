"""The outbound-fetch guard: which hosts count as public, judged from the URL alone (no packet is sent)."""

from __future__ import annotations

import socket

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
