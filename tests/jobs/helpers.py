"""What the job tests share: an SMTP server that can refuse, stall or ask for TLS and a password,
worker processes started as an operator would (`flask --app wsgi worker`), and waiting for them."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from pathlib import Path

import sqlalchemy as sa

from chapter.extensions import db
from config import BASE_DIR
from tests.conftest import start_smtp_controller


class RecordingHandler:
    """An aiosmtpd handler that keeps every message, counts MAIL commands, and can stall in DATA."""

    def __init__(self) -> None:
        self.messages: list = []
        self.mail_commands = 0
        self.data_started = 0
        self.stall = threading.Event()  # set: DATA hangs (then answers 451) until cleared

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_commands += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_started += 1
        if self.stall.is_set():
            while self.stall.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 the server stalled; try again later"
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


def start_smtp(handler, **smtp_options):
    """An aiosmtpd Controller on a loopback socket of its own (options: tls_context, authenticator, ssl_context...)."""
    controller = start_smtp_controller(handler, **smtp_options)
    return controller, controller.port


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, written as PEM files."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


def start_worker(app, smtp_port: int, *, threads: int = 2, extra_env: dict | None = None) -> subprocess.Popen:
    """`flask --app wsgi worker` in a process of its own, on the test database, queue and SMTP server."""
    env = dict(os.environ, FLASK_CONFIG="development", PYTHONUNBUFFERED="1",
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], JOBS_URL=app.config["JOBS_URL"],
               MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port), STRIPE_SECRET_KEY="sk_test_unused",
               PUBLIC_BASE_URL="http://localhost")
    env.update(extra_env or {})
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--no-periodic",
                             "--threads", str(threads)], cwd=BASE_DIR, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop_worker(process: subprocess.Popen, *, kill: bool = False) -> str:
    """Stop a worker (Ctrl-C, or SIGKILL as a crash would) and return what it printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def wait_until(predicate, *, seconds: float = 60, what: str = "the condition", workers=()) -> None:
    """Poll `predicate` (which may query the database) until it holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.rollback()  # see what the workers committed since
        db.session.expire_all()
        if predicate():
            return
        for worker in workers:
            if worker.poll() is not None:
                raise AssertionError(f"a worker exited while waiting for {what}:\n{stop_worker(worker)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
