"""Who is calling: the client's address and user agent, read the same way everywhere (throttles,
the audit log, idempotency owners).

Behind a reverse proxy every request comes from the proxy's address, which would make one
client of the whole city for the per-IP throttles. When ``REMOTE_ADDR`` is one of
``settings.TRUSTED_PROXIES`` (addresses or networks), the client is the rightmost address in
``X-Forwarded-For`` that is not itself a trusted proxy; a header from anyone else is ignored, so
a client cannot forge its address.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: Any) -> str | None:
    meta = request.META
    remote = meta.get("REMOTE_ADDR") or None
    if remote is None or not _trusted(remote):
        return remote
    forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _trusted(address):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return remote  # a malformed header: fall back to what we know
    return remote


def user_agent(request: Any) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:256]
