"""One POST to an endpoint, to an address checked just before (no redirects followed, a short time-out)."""
from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from flask import current_app

from chapter.outgoing import addresses


@dataclass(frozen=True)
class Answer:
    """What the endpoint said: its HTTP status, or why there was no answer."""

    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host name resolves to by then."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address; the certificate is verified against the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._context = context

    def connect(self):
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def post(url: str, body: str, headers: dict[str, str]) -> Answer:
    """POST `body` (JSON) to `url`; refused targets and network errors come back as an Answer with an error."""
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 5))
    try:
        scheme, host, port, path = addresses.check_url(url)
        address = addresses.resolve(host, port)[0]
    except addresses.TargetRefused as refused:
        return Answer(None, f"Refused: {refused.message}")
    if scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(
            host, port, address, timeout, ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(host, port, address, timeout)
    try:
        connection.request("POST", path, body=body.encode(), headers={
            **headers, "Content-Type": "application/json", "User-Agent": "chapter-webhooks/1"})
        response = connection.getresponse()
        response.read(65536)
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        return Answer(None, f"{type(error).__name__}: {error}"[:1000])
    finally:
        connection.close()
    if 300 <= response.status < 400:
        return Answer(response.status, "Redirects are not followed: give the final URL.")
    if not 200 <= response.status < 300:
        return Answer(response.status, f"HTTP {response.status} {response.reason}"[:1000])
    return Answer(response.status)
