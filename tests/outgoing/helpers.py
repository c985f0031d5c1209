"""A real HTTP receiver on a port-0 socket, answering as told; endpoints and events for the tests."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import listening_socket


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


class Receiver:
    """Answers each POST with the next status of `answers` (then 200 for ever); keeps what it received."""

    def __init__(self, answers: list[int] | None = None, *, headers: dict[str, str] | None = None):
        self.answers = list(answers or [])
        self.extra_headers = headers or {}
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        sock = listening_socket()
        self.port = sock.getsockname()[1]
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler, bind_and_activate=False)
        self.server.socket.close()
        self.server.socket = sock
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="webhook-receiver")
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def endpoint_for(chapter, url: str, events: list[str], *, owner=None):
    """An endpoint registered through the service, and its secret."""
    from chapter.outgoing import endpoints
    from tests import factories

    made = endpoints.create_endpoint(chapter=chapter, url=url, events=events, description="Test receiver",
                                     actor=owner or factories.staff())
    return made.endpoint, made.secret
