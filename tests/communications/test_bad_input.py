"""Bad input to the messaging pages answers a message by the field (or is ignored), never a server error."""
from __future__ import annotations

import pytest

from chapter.extensions import db
from tests import factories

HUGE = "9" * 30
HOSTILE = ["Infinity", "1e999", "9999-12-31T25:61", HUGE, "-1", "=cmd|' /C calc'!A0", "x" * 300]
FIELDS = ["audience", "category", "subject", "body", "event_id", "send_at", "when", "roster_filter"]


@pytest.fixture
def staff(app, client):
    factories.chapter(1)
    factories.user("staff@example.org", is_staff=True)
    db.session.commit()
    client.login("staff@example.org")


def test_hostile_compose_forms_answer_400_with_the_form_not_500(staff, client):
    token = client.csrf_token("/chapters/1/messages/new")
    for value in HOSTILE:
        for name in FIELDS:
            form = {"csrf_token": token, "audience": "all", "category": "chapter_news", "subject": "Hi",
                    "body": "Hi", "when": "later" if name == "send_at" else "now", "send": "Send", name: value}
            status = client.client.post("/chapters/1/messages/new", data=form).status_code
            assert status in (302, 400), (name, value, status)
        assert client.client.post("/chapters/1/messages/cap", data={"csrf_token": token,
                                                                    "daily_cap": value}).status_code == 400


def test_hostile_queries_on_the_log_and_compose_pages_are_ignored(staff, client):
    for query in (f"q={HUGE}&sort=x&dir=x&page={HUGE}", "q=%25_&page=-1", "view=x&status=x&joined_from=9999-99-99",
                  f"audience=event&event_id={HUGE}"):
        for path in ("/chapters/1/messages", "/admin/messages", "/chapters/1/messages/new"):
            assert client.get(f"{path}?{query}").status_code == 200, (path, query)
