"""Where a webhook may be sent (no SSRF): the URL's scheme, and every address its host resolves to.

In production (`WEBHOOK_ALLOW_PRIVATE_TARGETS` off, `WEBHOOK_REQUIRE_HTTPS` on) only https:// URLs whose
host resolves to public addresses only. The check runs when an endpoint is saved (a message by the
field) and again at every send, on the addresses the connection then uses (a DNS answer that changed
since, "DNS rebinding", is caught: the connection goes to the address that was checked).
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

from chapter.core.errors import DomainError


class TargetRefused(DomainError):
    """The URL, or an address its host resolves to, is not one webhooks may be sent to."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_loopback or address.is_link_local or address.is_private or address.is_multicast
                or address.is_reserved or address.is_unspecified or not address.is_global)


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an allowed URL; TargetRefused says why not."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise TargetRefused("This is not a valid URL.", field="url")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Give a full URL starting with https://.", field="url")
    if current_app.config.get("WEBHOOK_REQUIRE_HTTPS", True) and parts.scheme != "https":
        raise TargetRefused("Webhooks are only sent to https:// URLs.", field="url")
    if parts.username or parts.password:
        raise TargetRefused("Put no user name or password in the URL: check the signature instead.", field="url")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`, each checked; TargetRefused if any is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"The host name {host} does not resolve.", field="url")
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not current_app.config.get("WEBHOOK_ALLOW_PRIVATE_TARGETS", False):
        for text in addresses:
            if not _is_public(ipaddress.ip_address(text.split("%")[0])):
                raise TargetRefused(f"{host} resolves to {text}, a private, loopback, link-local or reserved "
                                    "address: webhooks are only sent to public addresses.", field="url")
    return addresses


def check_target(url: str) -> None:
    """What saving an endpoint checks: the URL and the addresses its host resolves to now."""
    _scheme, host, port, _path = check_url(url)
    if not current_app.config.get("WEBHOOK_ALLOW_PRIVATE_TARGETS", False):
        resolve(host, port)  # any address will do otherwise: a name that does not resolve yet is no risk
