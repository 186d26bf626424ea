"""The SSRF guard: webhooks go to public addresses only, unless an explicit
allow-list says otherwise.

Refused: loopback, private, link-local (so the cloud metadata services at
169.254.169.254 and fd00:ec2::254), CGNAT, multicast, reserved and
unspecified addresses, also when written in another form (decimal, octal or
hex IPv4, IPv4-mapped, -compatible, 6to4, Teredo or NAT64 IPv6).

Checked twice: when an endpoint is saved (its URL, and what its name resolves
to then), and at every connection, by `GuardedResolver`, whose answers are
the very addresses aiohttp connects to; so a DNS answer that changes between
the check and the connect (rebinding) is checked too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# inet_aton's forms: 1 to 4 parts, each decimal, octal (0...) or hex (0x...).
_IPV4_ANY_FORM = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


class ForbiddenAddress(OSError):
    """A webhook URL that points where webhooks may not go."""


@dataclass(frozen=True)
class AllowList:
    """Host names and networks let through despite the guard."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> "AllowList":
        hosts, networks = set(), []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def permits_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def permits_address(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self.networks)


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` denotes when it is an IP address in any form the
    C library accepts (e.g. 2130706433, 0177.0.0.1, 0x7f.1, [::ffff:7f00:1])."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _IPV4_ANY_FORM.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64) or (
        address in _IPV4_COMPATIBLE and int(address) > 1
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_forbidden(address: IPAddress) -> bool:
    """True for every address that is not a public unicast one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return True
        embedded = _embedded_ipv4(address)
        if embedded is not None and is_forbidden(embedded):
            return True
    return not address.is_global or address.is_multicast or address.is_reserved or address.is_unspecified


def check_address(address: IPAddress, allowed: AllowList) -> None:
    if is_forbidden(address) and not allowed.permits_address(address):
        raise ForbiddenAddress(f"webhook URLs may not point at {address} (not a public address)")


def check_host(host: str, allowed: AllowList) -> IPAddress | None:
    """Refuses a host that is a forbidden IP literal or a local name; returns
    the literal's address, or None for a name (checked when it resolves)."""
    if allowed.permits_host(host):
        return None
    literal = ip_literal(host)
    if literal is not None:
        check_address(literal, allowed)
        return literal
    name = host.lower().rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        raise ForbiddenAddress(f"webhook URLs may not point at {host}")
    return None


async def check_url(url: str, allowed: AllowList, *, resolve_timeout: float = 2.0) -> None:
    """The check when an endpoint is saved: the host, and what its name
    resolves to now. A name that does not resolve (yet) passes; it is checked
    again at every connection."""
    host = urlsplit(url).hostname or ""
    if check_host(host, allowed) is not None or allowed.permits_host(host):
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), resolve_timeout
        )
    except (OSError, asyncio.TimeoutError):
        return
    for info in infos:
        check_address(ipaddress.ip_address(info[4][0]), allowed)


class GuardedResolver(AbstractResolver):
    """Resolves like the default resolver, then drops every forbidden address;
    aiohttp connects only to what this returns, so the checked address is the
    connected one."""

    def __init__(self, allowed: AllowList, resolver: AbstractResolver | None = None):
        self._allowed = allowed
        self._resolver = resolver or ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        check_host(host, self._allowed)
        answers = await self._resolver.resolve(host, port, family)
        if self._allowed.permits_host(host):
            return answers
        kept = []
        for answer in answers:
            try:
                check_address(ipaddress.ip_address(answer["host"]), self._allowed)
            except ForbiddenAddress:
                continue
            kept.append(answer)
        if not kept:
            raise ForbiddenAddress(f"{host} resolves only to addresses webhooks may not reach")
        return kept

    async def close(self) -> None:
        await self._resolver.close()
