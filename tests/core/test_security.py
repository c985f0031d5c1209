"""Security headers on every response, no inline script anywhere, request size limits, production settings."""
import re
import socket
import time
from pathlib import Path

import pytest

from chapter import create_app
from chapter.core.security import content_security_policy
from chapter.extensions import db
from config import BASE_DIR, Config, TestConfig
from tests import factories


def _csp_directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/", "/login", "/chapters", "/no/such/page", "/static/css/app.css", "/healthz"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    csp = _csp_directives(headers["Content-Security-Policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert "Strict-Transport-Security" not in headers  # development and tests: no TLS, no HSTS


def test_error_pages_and_the_webhook_carry_them_too(client):
    response = client.client.post("/stripe/webhook", data=b"{}")
    assert response.status_code == 400 and response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_policy_allows_scripts_from_this_site_and_stripe_js_only(app, client):
    app.config["STRIPE_JS_URL"] = "https://js.stripe.com/v3/"
    csp = _csp_directives(client.get("/login").headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'", "https://js.stripe.com"]
    assert "'unsafe-inline'" not in sum(csp.values(), []) and "'unsafe-eval'" not in sum(csp.values(), [])
    assert set(csp["frame-src"]) == {"https://js.stripe.com", "https://hooks.stripe.com"}
    assert "https://api.stripe.com" in csp["connect-src"]
    # With localstripe, its own address instead.
    local = _csp_directives(content_security_policy({"STRIPE_JS_URL": "http://localhost:8420/js.stripe.com/v3/"}))
    assert local["script-src"] == ["'self'", "http://localhost:8420"]


def test_no_template_has_an_inline_script_or_event_handler():
    """The policy forbids inline script; a template that had one would break in the browser."""
    offenders = []
    for path in sorted(p for p in (BASE_DIR / "templates").rglob("*.html") if "email" not in p.parts):  # mail: no CSP
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attributes = match.group(1)
            if "src=" not in attributes and 'type="application/json"' not in attributes:
                offenders.append(f"{path.relative_to(BASE_DIR)}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text, re.I) or "javascript:" in text:
            offenders.append(f"{path.relative_to(BASE_DIR)}: event handler attribute or javascript: URL")
        if re.search(r'\sstyle\s*=\s*"', text):
            offenders.append(f"{path.relative_to(BASE_DIR)}: style attribute")
    assert offenders == []


def test_the_receipt_prints_and_the_report_draws_from_static_scripts(client):
    for script in ("js/app.js", "js/report-chart.js", "js/pay.js"):
        assert client.get(f"/static/{script}").status_code == 200


# --- Production settings ------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _queue_stays_with_the_test_app(app):
    """create_app binds the job queue to the app it makes: the test's app gets it back."""
    from chapter.jobs import queue

    yield
    queue.bind(app)


def _production_app(tmp_path, **overrides):
    database = tmp_path / "prod.sqlite"
    database.touch()  # production never creates an empty SQLite database
    settings = dict(SECRET_KEY="x" * 32, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", MAIL_SERVER="127.0.0.1",
                    PUBLIC_BASE_URL="https://members.example.org", RATELIMIT_STORAGE_URI="memory://",
                    JOBS_URL="memory://")
    settings.update(overrides)
    return create_app(Config, **settings)


def test_production_refuses_to_start_without_public_base_url(tmp_path):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        _production_app(tmp_path, PUBLIC_BASE_URL=None)


def test_production_refuses_unknown_host_headers_and_sends_hsts(tmp_path):
    app = _production_app(tmp_path, TRUSTED_HOSTS_EXTRA=["10.0.0.5"])
    client = app.test_client()
    assert client.get("/login", base_url="https://evil.example").status_code == 400
    good = client.get("/login", base_url="https://members.example.org")
    assert good.status_code == 200
    assert good.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # A host an operator adds (a load balancer's health check by address) is answered too.
    assert client.get("/static/css/app.css", base_url="http://10.0.0.5").status_code == 200


# --- Request size ---------------------------------------------------------------------------

def test_a_one_gib_body_is_refused_with_413_before_it_is_sent(live_server):
    host, port = live_server.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                           b"Content-Length: 1073741824\r\nConnection: close\r\n\r\n")
        answer = connection.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 10  # answered at once, not after reading a gigabyte


def test_the_largest_legitimate_upload_still_fits(app):
    from chapter.chapters.imports import MAX_IMPORT_BYTES

    assert MAX_IMPORT_BYTES < app.config["MAX_CONTENT_LENGTH"] <= MAX_IMPORT_BYTES + 2 * 1024 * 1024


def test_the_webhook_refuses_a_body_over_stripes_size_before_reading_it(app, client):
    from chapter.payments.models import StripeEvent

    body = b'{"id": "evt_big", "type": "x", "data": {"object": {}}, "pad": "' + b"x" * (600 * 1024) + b'"}'
    response = client.client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": "t=1,v1=0"})
    assert response.status_code == 413
    assert db.session.query(StripeEvent).count() == 0


def _signature(body: bytes) -> str:
    import hashlib
    import hmac

    from tests.conftest import WEBHOOK_SECRET

    timestamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@pytest.mark.parametrize("payload", [
    b"[1, 2, 3]", b'"just a string"', b"null",
    b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": "pi_1"}}',
    b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": []}',
    b'{"id": ["evt_1"], "type": "payment_intent.succeeded", "data": {"object": {}}}',
    b"\xff\xfe"])
def test_a_signed_webhook_that_is_not_an_event_object_is_a_400(app, client, payload):
    response = client.client.post("/stripe/webhook", data=payload, headers={"Stripe-Signature": _signature(payload)})
    assert response.status_code == 400


def test_public_url_ignores_the_host_of_the_request_at_hand(app):
    from chapter.core.links import public_url

    app.config["PUBLIC_BASE_URL"] = "https://members.example.org/app"
    with app.test_request_context("/", base_url="http://evil.example"):
        assert public_url("auth.login") == "https://members.example.org/app/login"
    assert public_url("payments.receipt", payment_id=7) == "https://members.example.org/app/payments/7/receipt"


def test_no_link_is_built_on_the_request_host():
    """Every absolute link (they go into mail) comes from chapter.core.links.public_url."""
    offenders = [str(path.relative_to(BASE_DIR)) for path in (BASE_DIR / "chapter").rglob("*.py")
                 if "_external=True" in path.read_text() and path.name != "links.py"]
    offenders += [str(path.relative_to(BASE_DIR)) for path in (BASE_DIR / "templates").rglob("*")
                  if path.is_file() and "_external" in path.read_text()]
    assert offenders == []
