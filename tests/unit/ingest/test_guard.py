"""The address guard: every spelling of a non-public address is refused, allow-lists work."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from services.ingest.guard import (
    AddressPolicy,
    check_url_host,
    embedded_ipv4,
    is_allowed_address,
    is_public_address,
    parse_ip_host,
    resolve_host,
)
from shared.config import Settings
from shared.errors import FetchError

NO_ALLOW = AddressPolicy()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # decimal
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("0x7f.1", "127.0.0.1"),  # hex, two parts
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("127.0.0.1.", "127.0.0.1"),  # trailing dot
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("fe80::1%eth0", "fe80::1"),
        ("example.com", None),
        ("123.example", None),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("08.1.1.1", None),  # not octal, not decimal: a name to inet_aton too
    ],
)
def test_parse_ip_host(host: str, expected: str | None) -> None:
    parsed = parse_ip_host(host)
    assert (str(parsed) if parsed is not None else None) == expected


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "127.255.255.254",
        "10.0.0.1",  # private
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # metadata, link-local
        "169.254.1.1",
        "100.64.0.1",  # CGNAT
        "100.127.255.254",
        "0.0.0.0",  # unspecified
        "0.1.2.3",
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "198.18.0.1",  # benchmarking
        "192.0.0.8",
        "::1",
        "::",
        "fe80::1",  # link-local
        "fc00::1",  # unique local
        "fd00:ec2::254",  # AWS metadata over IPv6
        "fec0::1",  # site-local
        "ff02::1",  # multicast
        "2001:db8::1",  # documentation
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",  # IPv4-compatible
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of the metadata address
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo (client 127.0.0.1)
    ],
)
def test_non_public_addresses_are_blocked(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert not is_public_address(ip)
    assert not is_allowed_address(ip, NO_ALLOW)


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "1.1.1.1",
        "100.63.255.255",  # just below CGNAT
        "100.128.0.0",  # just above
        "2606:4700:4700::1111",
        "2a00:1450:4001:81b::200e",
        "::ffff:8.8.8.8",  # IPv4-mapped public
        "2002:808:808::1",  # 6to4 of a public address
        "64:ff9b::808:808",  # NAT64 of a public address
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("2002:a00:1::1", "10.0.0.1"),
        ("64:ff9b::a00:1", "10.0.0.1"),
        ("::127.0.0.1", "127.0.0.1"),
        ("2606:4700:4700::1111", None),
        ("::1", None),
        ("10.0.0.1", None),
    ],
)
def test_embedded_ipv4(address: str, inner: str | None) -> None:
    found = embedded_ipv4(ipaddress.ip_address(address))
    assert (str(found) if found else None) == inner


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "0x7f.0.0.1",
        "017700000001",
        "127.1",
        "169.254.169.254",
        "0xa9fea9fe",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[fd00:ec2::254]",
        "[64:ff9b::7f00:1]",
        "100.64.0.1",
    ],
)
def test_check_url_host_refuses_literals(host: str) -> None:
    with pytest.raises(FetchError) as err:
        check_url_host(host, NO_ALLOW)
    assert err.value.reason == "blocked_address"
    assert not err.value.transient


@pytest.mark.parametrize("host", ["example.com", "localhost", "93.184.216.34", "[2606:4700:4700::1111]"])
def test_check_url_host_lets_names_and_public_literals_through(host: str) -> None:
    check_url_host(host, NO_ALLOW)  # names are checked after resolution


@pytest.mark.parametrize(
    ("allow", "host", "allowed"),
    [
        ("127.0.0.1", "127.0.0.1", True),
        ("127.0.0.1", "2130706433", True),  # same address, other spelling
        ("127.0.0.1", "127.0.0.2", False),
        ("127.0.0.0/8", "127.0.0.2", True),
        ("10.0.0.0/8", "10.20.30.40", True),
        ("10.0.0.0/8", "192.168.0.1", False),
        ("10.0.0.0/8,192.168.0.0/16", "192.168.0.1", True),
        ("127.0.0.1", "[::ffff:127.0.0.1]", True),  # mapped form of an allowed address
        ("::1", "[::1]", True),
        ("::1", "127.0.0.1", False),
        ("fixtures.local", "127.0.0.1", False),  # a name allows the name, not its address
    ],
)
def test_allow_list_by_ip_and_cidr(allow: str, host: str, allowed: bool) -> None:
    policy = AddressPolicy.from_settings(Settings(fetch_allow_hosts=allow))
    if allowed:
        check_url_host(host, policy)
    else:
        with pytest.raises(FetchError, match="blocked_address"):
            check_url_host(host, policy)


def _resolver(answers: dict[str, list[str]]):
    def resolve(host: str, port: int, **_: object) -> list[tuple]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    return resolve


ANSWERS = {
    "public.test": ["93.184.216.34"],
    "public6.test": ["2606:4700:4700::1111"],
    "private.test": ["10.0.0.1"],
    "mixed.test": ["93.184.216.34", "127.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "fixtures.local": ["127.0.0.1"],
    "Fixtures.Local": ["127.0.0.1"],
}


@pytest.mark.parametrize(
    ("allow", "host", "outcome"),
    [
        ("", "public.test", ["93.184.216.34"]),
        ("", "public6.test", ["2606:4700:4700::1111"]),
        ("", "private.test", "blocked_address"),
        ("", "mixed.test", "blocked_address"),  # all or nothing
        ("", "metadata.test", "blocked_address"),
        ("", "mapped.test", "blocked_address"),
        ("", "nowhere.test", "dns_error"),
        ("", "fixtures.local", "blocked_address"),
        ("fixtures.local", "fixtures.local", ["127.0.0.1"]),  # allow-listed by host name
        ("fixtures.local", "Fixtures.Local", ["127.0.0.1"]),
        ("fixtures.local", "private.test", "blocked_address"),
        ("10.0.0.0/8", "private.test", ["10.0.0.1"]),
        ("127.0.0.1", "mixed.test", ["93.184.216.34", "127.0.0.1"]),
        ("", "127.0.0.1", "blocked_address"),  # literals never reach the resolver
        ("127.0.0.1", "127.0.0.1", ["127.0.0.1"]),
    ],
)
def test_resolve_host(allow: str, host: str, outcome: list[str] | str) -> None:
    policy = AddressPolicy.from_settings(Settings(fetch_allow_hosts=allow))
    if isinstance(outcome, str):
        with pytest.raises(FetchError) as err:
            resolve_host(host, 80, policy, resolver=_resolver(ANSWERS))
        assert err.value.reason == outcome
    else:
        addresses = resolve_host(host, 80, policy, resolver=_resolver(ANSWERS))
        assert [str(a) for a in addresses] == outcome


def test_dns_error_is_transient() -> None:
    with pytest.raises(FetchError) as err:
        resolve_host("nowhere.test", 80, NO_ALLOW, resolver=_resolver({}))
    assert err.value.transient
