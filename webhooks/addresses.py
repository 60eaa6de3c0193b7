"""Where a webhook may point: https URLs whose host resolves only to public addresses (SSRF).

`check_url` answers at createWebhook/updateWebhook; `resolve_public` answers again at every
delivery and returns the addresses it checked, so the sender connects to one of those and
never resolves the name a second time (a DNS answer changing in between cannot redirect it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services, named for the log and the error; all are non-public ranges anyway.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
MAX_URL_LENGTH = 2000


class AddressRefused(ValueError):
    """A URL or address a webhook may not be sent to; the message says why (shown to the admin)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: what to connect to and what to tell the server."""

    scheme: str
    host: str  # as written in the URL (a name, or an IP literal without brackets)
    port: int
    path: str  # path and query, at least "/"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def url_for(self, address: IPAddress) -> str:
        """The URL with the checked address in place of the host name."""
        host = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def classify(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            reason = classify(embedded)
            return f"{reason} (inside {address})" if reason else None
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved or non-public address"
    return None


def parse_url(url: str, *, allow_http: bool) -> Target:
    """The parts of a webhook URL, or AddressRefused (https only unless `allow_http`)."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise AddressRefused(f"The URL must have 1 to {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("This is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_http and scheme == "http"):
        raise AddressRefused("The URL must start with https://.")
    if not parts.hostname:
        raise AddressRefused("The URL must name a host.")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("The URL must not contain a user name or password.")
    if parts.fragment:
        raise AddressRefused("The URL must not contain a fragment (#...).")
    if port == 0:
        raise AddressRefused("The URL's port must be 1 to 65535.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname, port if port is not None else (443 if scheme == "https" else 80), path)


def url_origin(url: str) -> str:
    """`scheme://host[:port]` of a webhook URL: what logs and the audit trail name (a receiver's path or
    query may carry a secret of its own)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"The host {host} does not resolve ({exc}).") from None
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    if not found:
        raise AddressRefused(f"The host {host} does not resolve.")
    return found


async def resolve_public(target: Target, *, allow_private: bool) -> list[IPAddress]:
    """The addresses of `target`'s host, all checked: one that is not public refuses the URL."""
    addresses = await resolve(target.host, target.port)
    if not allow_private:
        for address in addresses:
            reason = classify(address)
            if reason is not None:
                raise AddressRefused(f"The host {target.host} resolves to {address}, {reason}.")
    return addresses


async def check_url(url: str, *, allow_http: bool, allow_private: bool) -> Target:
    """Parse and resolve `url` as a delivery would: AddressRefused when it may not be used."""
    target = parse_url(url, allow_http=allow_http)
    await resolve_public(target, allow_private=allow_private)
    return target
