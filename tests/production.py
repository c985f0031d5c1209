"""An app with production settings on the test database, for tests of what production refuses."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask

from chapter import create_app
from chapter.extensions import db
from chapter.jobs import queue as job_queue
from config import Config


@contextmanager
def production_app(test_app: Flask, **overrides) -> Iterator[Flask]:
    """The production configuration (ENVIRONMENT=production) over the test app's database, in its own context."""
    settings = dict(
        SECRET_KEY="production-test-secret", SQLALCHEMY_DATABASE_URI=test_app.config["SQLALCHEMY_DATABASE_URI"],
        # Production requires a mail server; nothing is delivered (no worker runs in these tests).
        MAIL_SERVER="127.0.0.1", MAIL_OUTBOX_DIR=test_app.config["MAIL_OUTBOX_DIR"], RATELIMIT_STORAGE_URI="memory://",
        STRIPE_API_BASE=None, JOBS_URL=test_app.config["JOBS_URL"], PUBLIC_BASE_URL="https://members.example.org",
    )
    settings.update(overrides)
    app = create_app(Config, **settings)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
            job_queue.bind(test_app)  # creating an app binds the job queue to it: give it back
