"""An app with production settings on the test database, for tests of what production refuses."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask

from chapter import create_app
from chapter.extensions import db
from config import Config


@contextmanager
def production_app(test_app: Flask, **overrides) -> Iterator[Flask]:
    """The production configuration (ENVIRONMENT=production) over the test app's database, in its own context."""
    settings = dict(
        SECRET_KEY="production-test-secret", SQLALCHEMY_DATABASE_URI=test_app.config["SQLALCHEMY_DATABASE_URI"],
        MAIL_SERVER=None, MAIL_OUTBOX_DIR=test_app.config["MAIL_OUTBOX_DIR"], RATELIMIT_STORAGE_URI="memory://",
        STRIPE_API_BASE=None,
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
