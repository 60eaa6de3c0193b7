"""`SITEDESK_TRUSTED_PROXIES`: behind a reverse proxy, the client is whom the proxy says.

Only for a peer whose address is in the list (addresses or CIDR networks, comma-separated) do
`X-Forwarded-For` and `X-Forwarded-Proto` count: the client address becomes the right-most
forwarded address that is not itself a trusted proxy, so login throttling, the audit log and the
request log see the real client. Anyone else's forwarded headers are ignored. The work is done by
uvicorn's `ProxyHeadersMiddleware` (the same as `uvicorn --forwarded-allow-ips`), in the app so it
holds for every way of serving it.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.settings import Settings


def trusted_proxies(settings: Settings) -> list[Middleware]:
    """The middleware to put first, or none when no proxy is trusted."""
    if not settings.trusted_proxies:
        return []
    return [Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))]
