"""Who may do what with messages: every route of communications, for every kind of user.

Officers with the messaging right (data on their position) compose and cancel; every officer who sees
the roster reads the chapter's sent log; staff do all, for any chapter, and set the daily cap; members
and other chapters' officers see nothing of a chapter's messages; the anonymous are sent to log in.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from chapter.communications import composing, preferences
from chapter.communications.models import MailCategory
from chapter.core.models import utcnow
from chapter.extensions import db
from tests import factories
from tests.communications.helpers import member_until

ROLES = ["messaging_officer", "officer_without_right", "other_chapters_officer", "member", "anonymous", "staff"]
#             route                                       with right  without  other  member anon  staff
EXPECTED = [
    ("GET", "/chapters/1/messages/new",                   (200,       403,     403,   403,   302,  200)),
    ("POST", "/chapters/1/messages/new",                  (200,       403,     403,   403,   302,  200)),
    ("GET", "/chapters/1/messages",                       (200,       200,     403,   403,   302,  200)),
    ("GET", "/chapters/1/messages/{id}",                  (200,       200,     403,   403,   302,  200)),
    ("GET", "/chapters/1/messages/{id}/progress.json",    (200,       200,     403,   403,   302,  200)),
    ("GET", "/admin/messages",                            (403,       403,     403,   403,   302,  200)),
    ("POST", "/chapters/1/messages/cap",                  (403,       403,     403,   403,   302,  302)),
    ("GET", "/account/mail-preferences",                  (200,       200,     200,   200,   302,  200)),
    ("POST", "/account/mail-preferences",                 (302,       302,     302,   302,   302,  302)),
    ("GET", "/unsubscribe/{token}",                       (200,       200,     200,   200,   200,  200)),
    ("POST", "/unsubscribe/{token}",                      (200,       200,     200,   200,   200,  200)),
    ("POST", "/chapters/1/messages/{id}/cancel",          (302,       403,     403,   403,   302,  302)),
]


@pytest.fixture
def people(app):
    home, other = factories.chapter(1), factories.chapter(2)
    member = member_until(home, "Mo", "Member", 100)
    member.user = factories.user("member@example.org")
    factories.officer(home, "secretary", holder=factories.user("secretary@example.org"))
    factories.officer(home, "treasurer", holder=factories.user("treasurer@example.org"))
    factories.officer(other, "president", holder=factories.user("other@example.org"))
    factories.user("staff@example.org", is_staff=True)
    scheduled = composing.create_message(home, actor=factories.user(), kind="roster", params={},
                                         category=MailCategory.CHAPTER_NEWS, subject="Later", body="Hi",
                                         send_at=utcnow() + timedelta(days=1))
    db.session.commit()
    return {"messaging_officer": "secretary@example.org", "officer_without_right": "treasurer@example.org",
            "other_chapters_officer": "other@example.org", "member": "member@example.org", "anonymous": None,
            "staff": "staff@example.org", "message_id": scheduled.id,
            "token": preferences.unsubscribe_token("mo.member@example.org", MailCategory.CHAPTER_NEWS)}


FORMS = {
    "/chapters/1/messages/new": {"audience": "all", "category": "chapter_news", "subject": "Hi", "body": "Hi",
                                 "when": "now", "preview": "Preview"},
    "/chapters/1/messages/cap": {"daily_cap": "4"},
    "/account/mail-preferences": {"chapter_news": "y"},
}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_matrix_says(people, client, role):
    email = people[role]
    if email:
        client.login(email)
    token_page = "/account/mail-preferences" if email else "/login"
    wrong = []
    for method, route, codes in EXPECTED:
        url = route.format(id=people["message_id"], token=people["token"])
        if method == "GET":
            status = client.get(url).status_code
        else:
            status = client.submit(url, FORMS.get(route, {}), form_url=token_page).status_code
        expected = codes[ROLES.index(role)]
        if status != expected:
            wrong.append(f"{method} {url}: {status}, expected {expected}")
    assert wrong == []


def test_a_position_given_the_right_by_staff_may_compose(people, client):
    position = factories.position("treasurer")
    position.can_message_members = True
    db.session.commit()
    client.login("treasurer@example.org")
    assert client.get("/chapters/1/messages/new").status_code == 200


def test_a_message_of_another_chapter_is_not_found_under_this_one(people, client):
    client.login("other@example.org")
    assert client.get(f"/chapters/2/messages/{people['message_id']}").status_code == 404
