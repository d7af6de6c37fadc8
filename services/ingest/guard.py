"""Address guard: refuse to fetch from private, loopback, metadata and other non-public addresses (SSRF).

Pure checks on addresses plus one resolver. The fetcher's network backend resolves a host with
`resolve_host`, and then connects to exactly the addresses that passed, so a second DNS answer
(DNS rebinding) never reaches a socket.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from shared.config import Settings
from shared.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., list[tuple]]

# Cloud metadata endpoints (AWS/GCP/Azure IPv4, AWS IPv6). Blocked by the ranges below as well;
# named here so the intent survives any change to those ranges.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})

# Ranges that Python's ipaddress does not flag as private/reserved in every version.
EXTRA_BLOCKED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "240.0.0.0/4",  # reserved, incl. broadcast
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fec0::/10",  # deprecated site-local
    )
)
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which non-public addresses and host names may be fetched anyway (settings.fetch_allow_hosts)."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hostnames: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        """The policy from `fetch_allow_hosts`."""
        return cls(settings.allowed_networks, settings.allowed_hostnames)

    def allows_hostname(self, host: str) -> bool:
        """True when the host name itself is allow-listed (its addresses are then not checked)."""
        return host.rstrip(".").lower() in self.allowed_hostnames


def parse_ip_host(host: str) -> IPAddress | None:
    """The address a URL host denotes if it is an IP literal, else None.

    Accepts every form a resolver's inet_aton accepts (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`),
    bracketed IPv6 and IPv6 with a zone id, because those all reach the same socket.
    """
    text = host.strip().rstrip(".").lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    return _parse_inet_aton(text)


def _parse_inet_aton(text: str) -> ipaddress.IPv4Address | None:
    # inet_aton(3): 1 to 4 dot-separated parts, each decimal, octal (leading 0) or hex (0x);
    # the last part fills all remaining bytes.
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        try:
            if part.startswith(("0x", "0X")):
                numbers.append(int(part[2:], 16) if part[2:] else 0)
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part[1:], 8))
            elif part.isdigit():
                numbers.append(int(part))
            else:
                return None
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(value)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv6 one (mapped, compatible, 6to4, NAT64, Teredo), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64_WELL_KNOWN or (int(address) >> 32 == 0 and int(address) > 1):
        # NAT64 (RFC 6052) or the deprecated IPv4-compatible form ::a.b.c.d.
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True for a globally routable unicast address, judging any IPv4 address embedded in an IPv6 one."""
    inner = embedded_ipv4(address)
    if inner is not None and not is_public_address(inner):
        return False
    if isinstance(address, ipaddress.IPv6Address) and (address.ipv4_mapped is not None or address in NAT64_WELL_KNOWN):
        # Only a spelling of an IPv4 address: judged by that address alone.
        return inner is not None and is_public_address(inner)
    if address in METADATA_ADDRESSES or any(address in net for net in EXTRA_BLOCKED_NETWORKS):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def is_allowed_address(address: IPAddress, policy: AddressPolicy) -> bool:
    """True when the address may be fetched: public, or inside an allow-listed network."""
    if is_public_address(address):
        return True
    candidates = [address]
    inner = embedded_ipv4(address)
    if inner is not None:
        candidates.append(inner)
    return any(a.version == net.version and a in net for a in candidates for net in policy.allowed_networks)


def check_url_host(host: str, policy: AddressPolicy) -> None:
    """Refuse an IP-literal host that is not allowed, before any connection; host names pass here
    and are checked after resolution by `resolve_host`."""
    address = parse_ip_host(host)
    if address is not None and not policy.allows_hostname(host) and not is_allowed_address(address, policy):
        raise FetchError("blocked_address", f"{host} is not a public address ({address})")


def resolve_host(host: str, port: int, policy: AddressPolicy, *, resolver: Resolver | None = None) -> list[IPAddress]:
    """Resolve `host` and return its addresses if every one is allowed; raise dns_error or blocked_address.

    All-or-nothing on purpose: a name with one private address among public ones is an attack or a
    mistake either way, and the caller must connect only to what this returns.
    """
    literal = parse_ip_host(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        resolve = resolver or socket.getaddrinfo
        try:
            infos = resolve(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError("dns_error", f"cannot resolve {host}: {exc}") from None
        addresses = _unique(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos)
        if not addresses:
            raise FetchError("dns_error", f"no address for {host}")
    if policy.allows_hostname(host):
        return addresses
    blocked = [a for a in addresses if not is_allowed_address(a, policy)]
    if blocked:
        raise FetchError("blocked_address", f"{host} resolves to a non-public address ({blocked[0]})")
    return addresses


def _unique(addresses: Iterable[IPAddress]) -> list[IPAddress]:
    seen: dict[IPAddress, None] = {}
    for address in addresses:
        seen.setdefault(address, None)
    return list(seen)
