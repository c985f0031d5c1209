"""Helpers of the API tests: a token made through the service, and requests that send it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chapter.api import tokens
from chapter.core.models import today
from chapter.core.permissions import roles_of
from chapter.extensions import db


def make_token(user, scopes, chapters=(), *, all_chapters=False, days=30) -> str:
    """A token of `user` (committed), as its plain text."""
    _, plain = tokens.create_token(user, roles=roles_of(user), name="test", scopes=list(scopes),
                                   chapter_ids=[c.id for c in chapters], all_chapters=all_chapters,
                                   expires_on=today() + timedelta(days=days), today=today())
    db.session.commit()
    return plain


class Api:
    """The test client speaking to /api/v1 with a Bearer token."""

    def __init__(self, client):
        self.client = client

    def get(self, path, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(f"/api/v1{path}", headers=headers, **kwargs)

    def post(self, path, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.post(f"/api/v1{path}", headers=headers, **kwargs)

    def patch(self, path, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.patch(f"/api/v1{path}", headers=headers, **kwargs)


@pytest.fixture
def api(app):
    return Api(app.test_client())
