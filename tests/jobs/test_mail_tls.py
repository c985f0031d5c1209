"""Mail in production: STARTTLS or implicit TLS, a user name and password, against aiosmtpd with a
self-signed certificate made here; and no start without a mail server."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import AuthResult, LoginPassword

from chapter import create_app
from chapter.core.mail import send_mail
from chapter.core.models import utcnow
from chapter.extensions import db
from chapter.jobs import queue as job_queue
from chapter.jobs.models import MailStatus, OutboxMail
from config import Config
from tests.conftest import run_jobs
from tests.jobs.helpers import RecordingHandler, self_signed_certificate, server_tls_context, start_smtp

USER, PASSWORD = "chapter-mailer", "s3cret-relay-password"


class Authenticator:
    """Accepts USER/PASSWORD only, and remembers who logged in."""

    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER \
                and auth_data.password.decode() == PASSWORD:
            self.logins.append(auth_data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@pytest.fixture
def certificate(tmp_path):
    return self_signed_certificate(tmp_path)


@pytest.fixture
def starttls_server(app, certificate):
    """A submission server (like port 587): STARTTLS first, then AUTH, then mail."""
    handler, authenticator = RecordingHandler(), Authenticator()
    controller, port = start_smtp(handler, tls_context=server_tls_context(*certificate), require_starttls=True,
                                  auth_required=True, authenticator=authenticator)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=True, MAIL_USE_SSL=False,
                      MAIL_USERNAME=USER, MAIL_PASSWORD=PASSWORD, MAIL_TLS_CA_FILE=str(certificate[0]))
    yield handler, authenticator
    controller.stop()


@pytest.fixture
def implicit_tls_server(app, certificate):
    """A server that speaks TLS from the first byte (like port 465), with AUTH."""
    handler, authenticator = RecordingHandler(), Authenticator()
    # The connection is TLS already; aiosmtpd only knows STARTTLS as TLS, hence auth_require_tls=False.
    controller, port = start_smtp(handler, ssl_context=server_tls_context(*certificate), auth_required=True,
                                  auth_require_tls=False, authenticator=authenticator)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_USE_SSL=True,
                      MAIL_USERNAME=USER, MAIL_PASSWORD=PASSWORD, MAIL_TLS_CA_FILE=str(certificate[0]))
    yield handler, authenticator
    controller.stop()


def _send_one(app) -> OutboxMail:
    with app.test_request_context():
        send_mail("ada@example.org", "Reset your password", "password_reset", user=None, link="http://localhost/r",
                  minutes=60)
        db.session.commit()
    return db.session.scalar(sa.select(OutboxMail))


def test_mail_goes_out_over_starttls_with_a_user_name_and_password(app, starttls_server):
    handler, authenticator = starttls_server
    mail = _send_one(app)
    run_jobs()
    assert handler.message_ids() == [mail.message_id] and authenticator.logins == [USER]


def test_mail_goes_out_over_implicit_tls_with_a_user_name_and_password(app, implicit_tls_server):
    handler, authenticator = implicit_tls_server
    mail = _send_one(app)
    run_jobs()
    assert handler.message_ids() == [mail.message_id] and authenticator.logins == [USER]


def test_a_wrong_password_keeps_the_mail_for_a_retry_once_the_operator_fixes_it(app, starttls_server):
    handler, _ = starttls_server
    app.config["MAIL_PASSWORD"] = "not-the-password"
    mail = _send_one(app)
    run_jobs()
    db.session.expire_all()
    assert handler.messages == [] and mail.status is MailStatus.PENDING and "SMTPAuthenticationError" in mail.last_error

    app.config["MAIL_PASSWORD"] = PASSWORD
    run_jobs(now=utcnow() + timedelta(hours=1))
    assert handler.message_ids() == [mail.message_id]


def test_a_server_whose_certificate_is_not_trusted_gets_no_mail(app, starttls_server):
    handler, authenticator = starttls_server
    app.config["MAIL_TLS_CA_FILE"] = None  # the system's CAs do not know the self-signed certificate
    mail = _send_one(app)
    run_jobs()
    db.session.expire_all()
    assert handler.messages == [] and authenticator.logins == []
    assert mail.status is MailStatus.PENDING and "CERTIFICATE_VERIFY_FAILED" in mail.last_error


def test_without_starttls_the_submission_server_refuses_and_the_password_is_never_sent(app, starttls_server):
    handler, authenticator = starttls_server
    app.config["MAIL_USE_TLS"] = False
    mail = _send_one(app)
    run_jobs()
    db.session.expire_all()
    assert handler.messages == [] and authenticator.logins == [] and mail.status is MailStatus.PENDING


def test_production_refuses_to_start_without_a_mail_server(app):
    settings = dict(SECRET_KEY="production-secret", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                    JOBS_URL="memory://", PUBLIC_BASE_URL="https://members.example.org")  # also required in production
    with pytest.raises(RuntimeError, match="MAIL_SERVER is not set"):
        create_app(Config, MAIL_SERVER=None, **settings)
    try:
        assert create_app(Config, MAIL_SERVER="smtp.example.org", **settings).config["MAIL_SERVER"] == "smtp.example.org"
    finally:
        job_queue.bind(app)  # creating an app binds the queue to it: give it back to the test's app
