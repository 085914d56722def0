"""Safe fetching: the checker connects only to public addresses, checked after resolving.

Users type these URLs into their ads, and the server fetches them, so a URL (or a redirect)
must not reach the server's own network: private, loopback, link-local, shared, reserved and
cloud-metadata addresses are refused. The host name is resolved here, every address checked,
and the connection made to the checked address itself (TLS still names the host), so a second,
different DNS answer cannot slip a private address in (DNS rebinding). Every connection goes
through this, so every redirect hop is checked too.

Hosts listed in `allowed_hosts` skip the check: "host" for any port (loopback in tests) or
"host:port" for one (the app's own address, for its demo site, and nothing else on that host).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from ppc_robot.lib.i18n import N_

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud providers' instance-metadata endpoints (AWS, GCP, Azure, OpenStack; Alibaba; AWS IPv6).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"))


class HostNotFound(Exception):
    """The host name does not resolve."""


class AddressRefused(Exception):
    """The host resolves to an address the checker may not reach; the message says which."""


def refusal_of(address: IpAddress) -> str | None:
    """Why the checker may not connect to `address`, in words; None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return N_("a cloud metadata address (%(address)s)") % {"address": address}
    if address.is_loopback:
        return N_("a loopback address (%(address)s)") % {"address": address}
    if address.is_link_local:
        return N_("a link-local address (%(address)s)") % {"address": address}
    if address.is_private:
        return N_("a private address (%(address)s)") % {"address": address}
    if not address.is_global or address.is_multicast:
        return N_("a reserved address (%(address)s)") % {"address": address}
    return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving and vetting each host before connecting to it."""

    def __init__(self, allowed_hosts: Iterable[str] = (), resolve_timeout: float = 10.0) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allowed = frozenset(h.lower().replace("[", "").replace("]", "") for h in allowed_hosts)
        self._resolve_timeout = resolve_timeout

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port)
        name = host.lower().strip("[]")
        if name not in self._allowed and f"{name}:{port}" not in self._allowed:
            for address in addresses:
                reason = refusal_of(address)
                if reason is not None:
                    raise AddressRefused(f"{host} resolves to {reason}")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout, local_address,
                                                     socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    async def _resolve(self, host: str, port: int) -> list[IpAddress]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._resolve_timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, TimeoutError, UnicodeError) as exc:
            raise HostNotFound(f"{host} does not resolve") from exc
        addresses: list[IpAddress] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise HostNotFound(f"{host} does not resolve")
        return addresses

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool whose connections go through GuardedBackend;
    no proxy from the environment (a proxy would connect for us, unchecked)."""

    def __init__(self, *, allowed_hosts: Iterable[str] = (), limits: httpx.Limits,
                 ssl_context: ssl.SSLContext, resolve_timeout: float = 10.0) -> None:
        # Not httpx's __init__: it builds a pool (and loads the CA bundle) that ours replaces,
        # as httpx offers no way to give its pool a network backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed_hosts, resolve_timeout))


def tls_context(verify: bool = True) -> ssl.SSLContext:
    """The TLS settings of every connection (loading the CA bundle takes a while: share it)."""
    return httpx.create_ssl_context(verify=verify, trust_env=False)
