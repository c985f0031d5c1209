"""Fixtures of the outgoing webhooks' tests: a receiver, what was published, production's address rules."""
from __future__ import annotations

import pytest

from chapter.core import domain_events
from tests.outgoing.helpers import Receiver

_published: list[tuple[str, dict]] = []


def _record(name: str, payload: dict) -> None:
    _published.append((name, payload))


domain_events.subscribe_all(_record)


@pytest.fixture
def published():
    """Every domain event published during the test, as (name, payload)."""
    _published.clear()
    yield _published
    _published.clear()


@pytest.fixture
def receiver():
    started = []

    def start(answers=None, **options) -> Receiver:
        made = Receiver(answers, **options)
        started.append(made)
        return made

    yield start
    for made in started:
        made.stop()


@pytest.fixture
def production_targets(app):
    """The production settings' rules on where webhooks may go (https only, public addresses only)."""
    from config import Config

    app.config.update(WEBHOOK_REQUIRE_HTTPS=Config.WEBHOOK_REQUIRE_HTTPS,
                      WEBHOOK_ALLOW_PRIVATE_TARGETS=Config.WEBHOOK_ALLOW_PRIVATE_TARGETS)
    return app
