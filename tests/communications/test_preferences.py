"""Members choose what they receive; a link in every message unsubscribes without a log-in, by a GET that
asks first and a POST that needs no session or CSRF token (RFC 8058 one-click); a forged token is refused."""
from __future__ import annotations

import re

import pytest

from chapter.communications import composing, preferences
from chapter.communications.models import MailCategory
from chapter.extensions import db
from tests import factories
from tests.communications.helpers import member_until
from tests.conftest import text_of


@pytest.fixture
def reader(app):
    home = factories.chapter(1)
    member = member_until(home, "Dana", "Reader", 20)
    member.user = factories.user("dana.reader@example.org", name="Dana Reader")
    db.session.commit()
    return member


def _link_in_mail(smtp_server) -> str:
    unfolded = re.sub(r"\r?\n", "", smtp_server[0]["List-Unsubscribe"])
    return re.search(r"<(https?://[^>]+)>", unfolded).group(1).split("127.0.0.1:5000", 1)[1]


def _send(home, category=MailCategory.CHAPTER_NEWS):
    composing.create_message(home, actor=factories.user(), kind="roster", params={}, category=category,
                             subject="News", body="Hello {{first_name}}")
    db.session.commit()


def test_one_click_unsubscribe_by_post_needs_no_session_and_stops_the_next_send(reader, app, smtp_server):
    _send(reader.home_chapter)
    path = _link_in_mail(smtp_server)
    anonymous = app.test_client()  # no session, no CSRF token: what a mail client sends (RFC 8058)
    response = anonymous.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    assert preferences.opted_out_categories("dana.reader@example.org") == {MailCategory.CHAPTER_NEWS}
    _send(reader.home_chapter)
    _send(reader.home_chapter, MailCategory.EVENT_ANNOUNCEMENTS)
    assert [m["Subject"] for m in smtp_server] == ["News", "News"]  # the first, and the event announcement only


def test_the_link_asks_before_unsubscribing(reader, app, smtp_server):
    _send(reader.home_chapter)
    path = _link_in_mail(smtp_server)
    anonymous = app.test_client()
    page = anonymous.get(path)
    assert page.status_code == 200
    assert "Unsubscribe from chapter news" in page.get_data(as_text=True)
    assert preferences.opted_out_categories("dana.reader@example.org") == set()  # a GET changes nothing
    done = anonymous.post(path)
    assert "no longer receives <strong>chapter news</strong>" in done.get_data(as_text=True)
    assert preferences.is_opted_out("dana.reader@example.org", MailCategory.CHAPTER_NEWS)


def test_a_forged_or_altered_token_is_refused(reader, app):
    anonymous = app.test_client()
    genuine = preferences.unsubscribe_token("dana.reader@example.org", MailCategory.CHAPTER_NEWS)
    from itsdangerous import URLSafeSerializer

    forged = URLSafeSerializer("not-our-secret", salt=preferences.UNSUBSCRIBE_SALT).dumps(
        {"e": "someone@example.org", "c": "chapter_news"})
    for token in (forged, genuine[:-2] + "xx", "nonsense"):
        assert anonymous.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 400
        assert anonymous.get(f"/unsubscribe/{token}").status_code == 400
    assert preferences.opted_out_categories("someone@example.org") == set()
    assert preferences.opted_out_categories("dana.reader@example.org") == set()


def test_a_member_chooses_what_to_receive_on_the_preferences_page(reader, client, smtp_server):
    client.login("dana.reader@example.org")
    page = client.get("/account/mail-preferences").get_data(as_text=True)
    assert "Receipts, renewal reminders and security mail" in page
    assert page.count("checked") == 3
    response = client.submit("/account/mail-preferences", {"event_announcements": "y", "association_news": "y"})
    assert response.status_code == 302
    assert preferences.opted_out_categories("dana.reader@example.org") == {MailCategory.CHAPTER_NEWS}
    _send(reader.home_chapter)
    assert len(smtp_server) == 0
    client.submit("/account/mail-preferences", {"chapter_news": "y", "event_announcements": "y", "association_news": "y"})
    _send(reader.home_chapter)
    assert len(smtp_server) == 1


def test_an_officers_invitation_carries_the_unsubscribe_and_skips_who_opted_out(app, client, smtp_server):
    home = factories.chapter(1)
    invited = member_until(home, "Ines", "Invited", 100)
    declined = member_until(home, "Otto", "Optedout", 100)
    factories.officer(home, "vp_membership", holder=factories.user("vp@example.org"))
    preferences.opt_out(declined.email, MailCategory.CHAPTER_NEWS, source="link")
    db.session.commit()
    client.login("vp@example.org")
    response = client.submit("/chapters/1/invitations", {"member": [invited.member_number, declined.member_number]},
                             form_url="/chapters/1/roster", follow_redirects=True)
    assert "1 invitation sent; 1 asked for no chapter mail." in response.get_data(as_text=True)
    assert [m["To"] for m in smtp_server] == ["ines.invited@example.org"]
    assert smtp_server[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "No more invitations or news from your chapter: http" in text_of(smtp_server[0])
