"""The SSRF guard: webhooks go to public addresses only, unless an explicit
allow-list says otherwise.

Refused: loopback, private, link-local (so the cloud metadata services at
169.254.169.254 and fd00:ec2::254), CGNAT, multicast, reserved and
unspecified addresses, also when written in another form (decimal, octal or
hex IPv4, IPv4-mapped, -compatible, 6to4, Teredo or NAT64 IPv6).

Every check looks at the host exactly as the HTTP client will use it: the
URL's host after yarl's IDNA/UTS-46 encoding (so "𝟷27.0.0.1" written with
Unicode digits is 127.0.0.1 here too), and a non-ASCII host that encodes to
an IP address is refused outright.

Checked three times: when an endpoint is saved (its URL, and what its name
resolves to then; a name that does not resolve is refused unless
allow-listed), when a delivery is sent (`GuardedResolver`, whose answers are
the addresses aiohttp connects to, so a DNS answer that changes between the
check and the connect is checked too), and, the last line of defence, by
`guarded_socket_factory` on the very address each socket is about to connect
to, before a byte is sent, whatever path (IP literal, resolver, happy
eyeballs) produced it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# inet_aton's forms: 1 to 4 parts, each decimal, octal (0...) or hex (0x...).
_IPV4_ANY_FORM = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


class ForbiddenAddress(OSError):
    """A webhook URL that points where webhooks may not go."""


class UnusableURL(ValueError):
    """A webhook URL the HTTP client could not use (its host cannot be encoded, say)."""


def connect_host(url: str) -> str:
    """The host the HTTP client connects to for `url`: yarl's encoding of it
    (IDNA with UTS-46 mapping, lower case, brackets removed)."""
    try:
        parsed = URL(url)
        host = parsed.raw_host
    except (ValueError, UnicodeError, TypeError) as error:
        raise UnusableURL(f"the URL's host cannot be used: {error}") from None
    if not host:
        raise UnusableURL("the URL has no host")
    if ip_literal(host) is None:
        labels = host.rstrip(".").split(".")
        if len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
            raise UnusableURL("the URL's host has an empty label or one longer than 63 characters")
    original = urlsplit(url).hostname or ""
    if not original.isascii() and ip_literal(host) is not None:
        raise ForbiddenAddress(f"a host written with non-ASCII characters may not stand for an IP address ({host})")
    return host


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


async def check_url(url: str, allowed: AllowList, resolver: AbstractResolver | None = None, *,
                    resolve_timeout: float = 2.0) -> None:
    """The check when an endpoint is saved: the host as the client will use
    it, and every address its name resolves to now. A name that does not
    resolve is refused unless allow-listed (it could resolve inside later;
    the connection-time checks would still catch that, but a URL that works
    nowhere is better refused now)."""
    host = connect_host(url)
    if check_host(host, allowed) is not None or allowed.permits_host(host):
        return
    resolver = resolver or ThreadedResolver()
    try:
        answers = await asyncio.wait_for(resolver.resolve(host, 0, socket.AF_UNSPEC), resolve_timeout)
    except (OSError, asyncio.TimeoutError, ValueError):  # ValueError: UnicodeError from the idna codec
        answers = []
    if not answers:
        raise ForbiddenAddress(f"{host} does not resolve; add it to SCIMD_WEBHOOK_ALLOWED_HOSTS if it is meant to")
    for answer in answers:
        check_address(ipaddress.ip_address(answer["host"]), allowed)


def guarded_socket_factory(allowed: AllowList) -> Callable[[tuple], socket.socket]:
    """A socket factory for aiohttp's connector that refuses to create a
    socket for a forbidden address: the address it is given is the one the
    socket then connects to, so nothing reaches an internal address whatever
    produced it."""

    def create(addr_info: tuple) -> socket.socket:
        family, type_, proto, _, address = addr_info
        check_address(ipaddress.ip_address(address[0]), allowed)
        return socket.socket(family=family, type=type_, proto=proto)

    return create


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
