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

import pytest
import sqlalchemy as sa

from werkzeug.serving import make_server

from chapter import create_app
from chapter.core.caching import fragments
from chapter.extensions import db, limiter
from chapter.jobs import queue as job_queue
from config import TestConfig

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory) -> str:
    """The URL of the database under test; each test module runs once per database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    return os.environ["TEST_DATABASE_URL"]


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    """One app per database with the schema created from the models."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url,
                     MAIL_OUTBOX_DIR=os.path.join(os.path.dirname(database_url.split("///")[-1]), "outbox")
                     if database_url.startswith("sqlite") else "/tmp/chapter-test-outbox",
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


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on loopback; the app sends its mail there."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield received
    finally:
        controller.stop()


@pytest.fixture
def live_server(app):
    """The app served on a free loopback port for the length of one test; yields its base URL."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
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


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory):
    """localstripe, the fake Stripe server, on a free loopback port for the whole session."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    log_file = open(log_path, "w")
    process = subprocess.Popen([sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                               stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
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
