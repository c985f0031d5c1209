"""Links for mail: always built on PUBLIC_BASE_URL, never on the Host header of the request at hand.

A request's Host header is chosen by whoever sends the request; a password-reset link built on it
would carry the token to an attacker's site.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_base_url() -> str:
    """The configured address of the site (no trailing slash)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        raise RuntimeError("PUBLIC_BASE_URL is not set: links in mail cannot be built.")
    return base.rstrip("/")


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` on PUBLIC_BASE_URL, in or outside a request."""
    base = urlsplit(public_base_url())
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def trusted_hosts(config) -> list[str] | None:
    """Host names the app answers in production: PUBLIC_BASE_URL's and TRUSTED_HOSTS; None: any (development)."""
    if not config.get("PRODUCTION"):
        return config.get("TRUSTED_HOSTS")
    hosts = list(config.get("TRUSTED_HOSTS") or []) + list(config.get("TRUSTED_HOSTS_EXTRA") or [])
    base = urlsplit(config.get("PUBLIC_BASE_URL") or "")
    if base.hostname:
        hosts.append(base.hostname)
    return hosts
