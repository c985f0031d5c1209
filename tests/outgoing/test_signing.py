"""Signing secrets are stored encrypted under SECRET_KEY and survive its rotation through the fallbacks."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from chapter.core import domain_events
from chapter.extensions import db
from chapter.outgoing import signing
from chapter.outgoing.models import WebhookDelivery
from tests import factories
from tests.conftest import run_jobs
from tests.outgoing.helpers import endpoint_for


def test_a_secret_encrypted_under_the_old_key_still_decrypts_while_it_is_a_fallback(app):
    stored = signing.encrypt_secret("whsec_c2VjcmV0")
    app.config.update(SECRET_KEY="a-new-key", SECRET_KEY_FALLBACKS=["test-secret"])
    assert signing.decrypt_secret(stored) == "whsec_c2VjcmV0"
    moved = signing.reencrypt(stored)
    app.config.update(SECRET_KEY_FALLBACKS=[])
    assert signing.decrypt_secret(moved) == "whsec_c2VjcmV0"
    with pytest.raises(signing.SecretUnreadable):
        signing.decrypt_secret(stored)


def test_a_delivery_whose_secret_cannot_be_read_says_to_roll_it_and_sends_nothing(app, receiver):
    chapter = factories.chapter(1)
    hook = receiver()
    endpoint_for(chapter, hook.url, ["member.joined"])
    domain_events.publish("member.joined", {"member_id": 1, "chapter_id": chapter.id})
    db.session.commit()
    app.config.update(SECRET_KEY="another-key", SECRET_KEY_FALLBACKS=[])
    run_jobs()
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    assert hook.received == [] and "roll the secret" in delivery.last_error
