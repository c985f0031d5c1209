"""Fixtures: an app per database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
a clean database for every test, a client that logs in like a person, a real SMTP server.

Mail goes through the outbox: a test that expects mail runs the queued jobs with the real worker
code (`run_jobs()`, or a worker thread/process, see tests/jobs/) before it reads `smtp_server`."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from werkzeug.serving import make_server

from chapter import create_app
from chapter.core.caching import fragments, references
from chapter.members import search_counts
from chapter.chapters import roster_counts as chapter_roster_counts
from chapter.extensions import db, limiter
from chapter.jobs import queue as job_queue
from config import TestConfig
from tests.databases import create_database_beside

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def listening_socket() -> socket.socket:
    """A socket bound to a port the system picks (port 0) and listening already.

    Servers are handed the socket itself, never a port number to bind later: between "find a free
    port" and "bind it" another process (another engineer's suite, a parallel test) can take it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory):
    """The URL of the database under test; each test module runs once per database.

    Under pytest-xdist (`make test` runs two worker processes) each worker tests against a PostgreSQL
    database of its own, made next to TEST_DATABASE_URL's and dropped at the end: the workers empty
    their tables after every test and must not empty each other's.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    base = os.environ["TEST_DATABASE_URL"]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield base
        return
    url, drop = create_database_beside(base, f"{sa.engine.make_url(base).database}_{worker}")
    try:
        yield url
    finally:
        drop()


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    """One app per database with the schema created from the models."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url,
                     MAIL_OUTBOX_DIR=str(tmp_path_factory.mktemp("outbox")),
                     # A queue file of its own, which worker processes started by tests share.
                     JOBS_URL=f"sqlite:///{tmp_path_factory.mktemp('jobs') / 'queue.sqlite'}")
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = [t for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(_app):
    """The app inside an app context; every table is emptied after the test."""
    limiter.reset()
    fragments.clear()  # rendered pages kept per data version: a test's monkeypatch must not meet another's page
    references.clear()  # reference lists kept per process: a test starts from its own database
    search_counts.counts.clear()  # search counts kept per process, by generation
    chapter_roster_counts.kept.clear()  # roster status counts kept per process, by generation
    saved_config = dict(_app.config)
    job_queue.bind(_app)
    job_queue.huey.flush()
    with _app.app_context():
        yield _app
        db.session.rollback()
        db.session.remove()
        _empty_all_tables()
    job_queue.huey.flush()
    _app.config.clear()
    _app.config.update(saved_config)


def run_jobs(**kwargs) -> int:
    """Run the queued jobs (mail deliveries...) here and now with the real task code; see chapter.jobs.queue."""
    return job_queue.run_queued_jobs(**kwargs)


def text_of(message) -> str:
    """The plain-text part of a received (multipart) mail, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/plain part in {message['Subject']!r}")


@pytest.fixture
def clock():
    """One clock for the app and the test: `clock("2026-03-31")` pins today (UTC) from then on.

    The time ticks on from the given moment (so time-outs work) unless `tick=False` stops it;
    `chapter.core.models.today()` and the test's own `today()` read the same pinned clock.
    """
    import time_machine

    travels = []

    def pin(moment: str | datetime, *, tick: bool = True) -> date:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment if "T" in moment else f"{moment}T12:00:00")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        travel = time_machine.travel(moment, tick=tick)
        travel.start()
        travels.append(travel)
        return moment.date()

    yield pin
    for travel in reversed(travels):
        travel.stop()


@pytest.fixture
def db_session(app):
    return db.session


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browserish:
    """A test client that fills forms as a person would: it reads the CSRF token from the page."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def csrf_token(self, url: str) -> str:
        page = self.client.get(url)
        match = CSRF_PATTERN.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {url} ({page.status_code})"
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, *, form_url: str | None = None, **kwargs):
        """POST `data` to `url` with the CSRF token of the page at `form_url` (default: `url`)."""
        payload = dict(data or {})
        payload["csrf_token"] = self.csrf_token(form_url or url)
        return self.client.post(url, data=payload, **kwargs)

    def login(self, email: str, password: str | None = None):
        from tests.factories import DEFAULT_PASSWORD

        response = self.submit("/login", {"email": email, "password": password or DEFAULT_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self.submit("/logout", form_url="/chapters")


@pytest.fixture
def client(app) -> Browserish:
    return Browserish(app.test_client())


def start_smtp_controller(handler, **smtp_options):
    """A started aiosmtpd Controller serving on a socket bound before it starts (see listening_socket);
    `controller.port` is its port. Options as aiosmtpd's (tls_context, ssl_context, authenticator...)."""
    from aiosmtpd.controller import Controller

    class OnOwnSocket(Controller):
        def __init__(self, sock, **options):
            self.sock = sock
            super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **options)

        def _create_server(self):
            return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)

    controller = OnOwnSocket(listening_socket(), **smtp_options)
    controller.start()
    return controller


class DeliveredMail(list):
    """What the SMTP server received. Reading it first lets the worker's real job code deliver what is
    queued (as a worker would have by then), so a test reads the mailbox the way a person checks mail;
    `run_jobs()` does the same explicitly. Appending (the SMTP handler's thread) never runs jobs."""

    def _deliver_queued(self) -> None:
        from flask import has_app_context

        if has_app_context() and threading.current_thread() is threading.main_thread():
            run_jobs()

    def __iter__(self):
        self._deliver_queued()
        return super().__iter__()

    def __len__(self):
        self._deliver_queued()
        return super().__len__()

    def __getitem__(self, index):
        self._deliver_queued()
        return super().__getitem__(index)

    def __eq__(self, other):
        self._deliver_queued()
        return super().__eq__(other)

    def __bool__(self):
        self._deliver_queued()
        return super().__len__() > 0

    __hash__ = None


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on loopback; the app sends its mail there."""
    from aiosmtpd.handlers import Message

    received = DeliveredMail()

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    controller = start_smtp_controller(Collect())
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield received
    finally:
        controller.stop()


@pytest.fixture
def live_server(app):
    """The app served on a free loopback port for the length of one test; yields its base URL."""
    sock = listening_socket()
    server = make_server("127.0.0.1", sock.getsockname()[1], app, threaded=True, fd=sock.fileno())
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        sock.close()
        thread.join(timeout=5)


def _wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# localstripe's own start() binds a port by number, and pickles its whole store to the fixed
# /tmp/localstripe.pickle on every write (shared by every suite on the machine). This runs the same
# aiohttp app on the inherited socket, with the store kept in memory only (it starts from scratch).
LOCALSTRIPE_ON_SOCKET = """
import socket, sys
from aiohttp import web
from localstripe import resources, server
resources.Store.dump_to_disk = lambda self: None
sock = socket.socket(fileno=int(sys.argv[1]))
web.run_app(server.app, sock=sock, print=None)
"""


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory):
    """localstripe, the fake Stripe server, for the whole session, on a socket this process bound (port 0)."""
    sock = listening_socket()
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    log_file = open(log_path, "w")
    process = subprocess.Popen([sys.executable, "-c", LOCALSTRIPE_ON_SOCKET, str(sock.fileno())],
                               stdout=log_file, stderr=subprocess.STDOUT, pass_fds=[sock.fileno()])
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()  # the child holds its own copy
    try:
        _wait_for(f"{base}/v1/customers")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log_file.close()


WEBHOOK_SECRET = TestConfig.STRIPE_WEBHOOK_SECRET


@pytest.fixture
def stripe_peer(app, localstripe_server):
    """The app pointed at an emptied localstripe; webhooks are registered by `stripe_webhooks`."""
    request = urllib.request.Request(f"{localstripe_server}/_config/data", method="DELETE")
    urllib.request.urlopen(request, timeout=5)
    app.config.update(
        STRIPE_SECRET_KEY="sk_test_chapter", STRIPE_PUBLISHABLE_KEY="pk_test_chapter",
        STRIPE_API_BASE=localstripe_server, STRIPE_JS_URL=f"{localstripe_server.replace('127.0.0.1', 'localhost')}/js.stripe.com/v3/",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    return localstripe_server


@pytest.fixture
def stripe_webhooks(stripe_peer, live_server):
    """localstripe calls the live app's /stripe/webhook, signed with the test secret."""
    import urllib.parse

    data = urllib.parse.urlencode({"url": f"{live_server}/stripe/webhook", "secret": WEBHOOK_SECRET}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{stripe_peer}/_config/webhooks/chapter", data=data, method="POST"), timeout=5)
    yield live_server
    # Point the hook nowhere so a later test's events do not reach this (stopped) server.
    data = urllib.parse.urlencode({"url": "http://127.0.0.1:9/nowhere", "secret": WEBHOOK_SECRET}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{stripe_peer}/_config/webhooks/chapter", data=data, method="POST"), timeout=5)
