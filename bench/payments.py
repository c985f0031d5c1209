"""Payments: what a renewal costs on our server (Stripe's own latency taken out), and how many
webhook events per second /stripe/webhook absorbs (verify, store, apply, fulfil).

The renewal runs against localstripe (started here on a free port): the time spent inside
chapter.payments.gateway calls is measured and subtracted, so the figure is our own work:
routing, permission checks, SQL, fulfilment, templates. The webhook figure posts signed
`payment_intent.succeeded` events for pending payments (each one fulfils a renewal), then the
same events again (duplicates, which change nothing).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from bench.common import Bench, log, median, percentile

SAMPLES = 30
WEBHOOK_EVENTS = 500


def run(bench: Bench) -> None:
    with _localstripe() as base:
        bench.app.config.update(STRIPE_SECRET_KEY="sk_test_bench", STRIPE_PUBLISHABLE_KEY="pk_test_bench",
                                STRIPE_API_BASE=base, STRIPE_WEBHOOK_SECRET="whsec_bench", RATELIMIT_ENABLED=False)
        _renewal_server_time(bench, base)
        _webhook_throughput(bench)


@contextmanager
def _localstripe():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/v1/customers", timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.05)
            else:
                break
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _stripe(base: str, path: str, data: dict) -> dict:
    request = urllib.request.Request(f"{base}{path}", data=urllib.parse.urlencode(data).encode(), method="POST",
                                     headers={"Authorization": "Bearer sk_test_bench"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _members_due(bench: Bench, count: int) -> list[str]:
    """Active members in the renewal window, each given a log-in for the benchmark."""
    from werkzeug.security import generate_password_hash

    from chapter.auth.models import User
    from chapter.seed.demo import DEMO_PASSWORD
    from chapter.core.models import today
    from chapter.extensions import db
    from chapter.members.models import Member

    with bench.app.app_context():
        day = today()
        members = db.session.scalars(
            sa.select(Member).where(Member.user_id.is_(None), Member.paid_through.between(day + timedelta(days=5), day + timedelta(days=80)),
                                    Member.current_type_id.is_not(None), Member.home_chapter_id.is_not(None))
            .order_by(Member.id).limit(count)).all()
        password_hash = generate_password_hash(DEMO_PASSWORD)
        emails = []
        for member in members:
            email = f"bench.renewal.{member.member_number}@example.org"
            user = User(email=email, name=member.full_name, password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
            member.user_id = user.id
            emails.append(email)
        db.session.commit()
        db.session.remove()
    return emails


def _renewal_server_time(bench: Bench, base: str) -> None:
    from chapter.extensions import db
    from chapter.members.models import MembershipType
    from chapter.payments import gateway

    emails = _members_due(bench, SAMPLES + bench.warmup)
    with bench.app.app_context():
        professional = db.session.scalar(sa.select(MembershipType.id).where(MembershipType.code == "professional"))
    spent = {"stripe": 0.0}
    originals = {}
    for name in ("ensure_customer", "create_setup_intent", "retrieve_setup_intent", "charge", "retrieve_payment_intent"):
        original = getattr(gateway, name)
        originals[name] = original

        def timed(*args, _original=original, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent["stripe"] += time.perf_counter() - started

        setattr(gateway, name, timed)
    server_ms, stripe_ms = [], []
    try:
        for index, email in enumerate(emails):
            client = bench.client(email)
            spent["stripe"] = 0.0
            started = time.perf_counter()
            response = client.post("/membership/renew", data={"membership_type_id": professional})
            order_id = int(response.headers["Location"].rsplit("/", 1)[1])
            client.get(f"/pay/{order_id}")
            # Pressing Pay: the server makes the SetupIntent (opening the page makes none).
            setup_intent = client.post(f"/pay/{order_id}/setup", json={}).get_json()["setup_intent_id"]
            elapsed = time.perf_counter() - started
            # The browser's part (Stripe.js confirming the card) is not our server's time.
            method = _stripe(base, "/v1/payment_methods", {"type": "card", "card[number]": "4242424242424242",
                                                           "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123"})
            _stripe(base, f"/v1/setup_intents/{setup_intent}/confirm", {"payment_method": method["id"]})
            started = time.perf_counter()
            answer = client.post(f"/pay/{order_id}/charge", json={"setup_intent_id": setup_intent})
            elapsed += time.perf_counter() - started
            if answer.get_json().get("status") != "succeeded":
                raise RuntimeError(f"renewal failed: {answer.get_json()}")
            if index >= bench.warmup:
                server_ms.append((elapsed - spent["stripe"]) * 1000)
                stripe_ms.append(spent["stripe"] * 1000)
    finally:
        for name, original in originals.items():
            setattr(gateway, name, original)
    bench.emit("renewal_server_p50_ms", median(server_ms), "ms", None, p95=round(percentile(server_ms, 0.95), 2),
               samples=len(server_ms), stripe_calls_p50_ms=round(median(stripe_ms), 2),
               steps="choose type + payment page + charge and fulfil")


def _webhook_throughput(bench: Bench) -> None:
    """Signed payment_intent.succeeded events, each fulfilling a renewal (and queueing its receipt), then the
    same events again; then a fresh batch while two real workers are stuck on an SMTP server that stalls."""
    bodies = _pending_webhook_events(bench, f"bench{int(time.time())}")  # unique ids: --reuse runs again
    import os

    client = bench.app.test_client()
    _deliver_webhooks(client, _pending_webhook_events(bench, f"warm{int(time.time())}")[:5])  # templates compiled
    cpu: dict = {}
    first = _deliver_webhooks(client, bodies, cpu)
    bench.emit("webhook_events_per_second", len(bodies) / first, "events/s", None, events=len(bodies),
               kind="payment_intent.succeeded, each fulfilling a renewal", processes=1,
               load_average=round(os.getloadavg()[0], 1), **cpu)
    again = _deliver_webhooks(client, bodies, cpu)
    bench.emit("webhook_duplicates_per_second", len(bodies) / again, "events/s", None, events=len(bodies),
               kind="the same events again (stored ids: nothing changes)", processes=1, **cpu)
    log(f"payments: {len(bodies)} webhook events in {first:.2f} s, duplicates in {again:.2f} s")
    cpu = {}
    stalled = _webhooks_while_smtp_stalls(bench, cpu)
    if stalled is not None:
        # Issue 13: the webhook's events/s must not fall when mail is slow (no request talks to SMTP).
        bench.emit("webhook_events_per_second_smtp_stalled", stalled, "events/s", None, events=len(bodies), **cpu,
                   load_average=round(os.getloadavg()[0], 1),
                   ratio_to_normal=round(stalled / (len(bodies) / first), 2), processes=1,
                   kind="the same work while 2 workers deliver receipts to an SMTP server stalling 5 s a mail")


def _pending_webhook_events(bench: Bench, prefix: str) -> list[tuple[bytes, str]]:
    """WEBHOOK_EVENTS renewals waiting for Stripe's word, and the signed events that fulfil them."""
    from chapter.core.errors import DomainError
    from chapter.extensions import db
    from chapter.members.models import Member, MembershipType
    from chapter.payments import services
    from chapter.payments.models import Order, Payment, PaymentStatus

    with bench.app.app_context():
        from chapter.core.models import today

        day = today()
        professional = db.session.scalar(sa.select(MembershipType).where(MembershipType.code == "professional"))
        already = sa.select(Order.member_id).where(Order.member_id.is_not(None))
        members = db.session.scalars(
            sa.select(Member).where(Member.user_id.is_(None), Member.paid_through.between(day + timedelta(days=1), day + timedelta(days=85)),
                                    Member.home_chapter_id.is_not(None), Member.id.not_in(already))
            .order_by(Member.id.desc()).limit(WEBHOOK_EVENTS)).all()
        events = []
        for index, member in enumerate(members):
            try:
                order = services.start_renewal(member, professional, actor=None, day=day)
            except DomainError:  # e.g. an honorary member, never invoiced
                continue
            payment = Payment(order_id=order.id, amount_cents=order.total_cents, currency=order.currency,
                              chapter_id=order.chapter_id, status=PaymentStatus.PROCESSING,
                              stripe_payment_intent_id=f"pi_{prefix}_{index}")
            db.session.add(payment)
            db.session.flush()
            events.append({"id": f"evt_{prefix}_{index}", "type": "payment_intent.succeeded", "data": {"object": {
                "id": payment.stripe_payment_intent_id, "status": "succeeded", "amount": payment.amount_cents,
                "currency": payment.currency.lower(), "metadata": {"payment_id": str(payment.id)}}}})
        db.session.commit()
        db.session.remove()
    return [_signed(event) for event in events]


def _deliver_webhooks(client, bodies: list[tuple[bytes, str]], cpu: dict | None = None) -> float:
    """Post each signed event once; seconds taken (and, into `cpu`, this process's CPU ms per event).
    Any answer but 200 stops the benchmark."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for body, signature in bodies:
        response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature})
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
    if cpu is not None:
        cpu["cpu_ms"] = round((time.process_time() - cpu_started) * 1000 / max(len(bodies), 1), 2)
    return time.perf_counter() - started


class _StallingSmtp:
    """An aiosmtpd handler that takes STALL_SECONDS over every message (a mail server in trouble)."""

    STALL_SECONDS = 5

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(self.STALL_SECONDS)
        return "250 OK"


def _webhooks_while_smtp_stalls(bench: Bench, cpu: dict) -> float | None:
    """Events/s of a fresh batch of webhooks while two real workers sit on a stalling SMTP server."""
    import os
    import tempfile

    from bench.workers import start_worker, stop_workers, unbind_queue
    from chapter.jobs import queue
    from tests.conftest import start_smtp_controller

    controller = start_smtp_controller(_StallingSmtp())
    queue_dir = tempfile.mkdtemp(prefix="chapter-bench-stalled-")
    jobs_url = f"sqlite:///{queue_dir}/queue.sqlite"
    original = {key: bench.app.config.get(key) for key in ("JOBS_URL", "MAIL_SERVER", "MAIL_PORT")}
    bench.app.config.update(JOBS_URL=jobs_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    queue.bind(bench.app)
    workers = []
    try:
        workers = [start_worker(bench.app, jobs_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(controller.port))
                   for _ in range(2)]
        time.sleep(3)  # the workers are up and already holding the earlier receipts on the stalled server
        bodies = _pending_webhook_events(bench, f"stalled{int(time.time())}")
        if not bodies:
            log("payments: no members left for the stalled-mail webhook figure")
            return None
        seconds = _deliver_webhooks(bench.app.test_client(), bodies, cpu)
        log(f"payments: {len(bodies)} webhook events in {seconds:.2f} s while SMTP stalls "
            f"(load average {os.getloadavg()[0]:.1f})")
        return len(bodies) / seconds
    finally:
        stop_workers(workers)
        controller.stop()
        unbind_queue(bench, original)


def _signed(event: dict) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    timestamp = int(time.time())
    signature = hmac.new(b"whsec_bench", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"
