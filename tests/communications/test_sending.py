"""Messages to roster lists: the audience is the roster's list, opted-out members are skipped, the counts
on the sent log are what the SMTP server received, a scheduled message goes out once, the daily cap holds."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.chapters.services import RosterQuery, roster_count
from chapter.communications import composing, preferences, sending
from chapter.communications.models import MailCategory, Message, MessageStatus, RecipientStatus
from chapter.core.audit import AuditEntry
from chapter.core.models import today, utcnow
from chapter.extensions import db
from chapter.jobs.models import MailStatus, OutboxMail
from tests import factories
from tests.communications.helpers import compose_form, member_until, message_id_from
from tests.conftest import run_jobs, text_of


@pytest.fixture
def chapter_one(app):
    home = factories.chapter(1, name="Schuylkill Valley")
    member_until(home, "Dana", "Zimmerman", 10)
    member_until(home, "Chris", "Okafor", 25)
    member_until(home, "Erin", "Opted", 20)
    member_until(home, "Lee", "Nguyen", 200)
    member_until(home, "Noa", "Lapsed", -400)
    member_until(home, "Sam", "Silent", 15, email=None)
    other = factories.chapter(2)
    member_until(other, "Other", "Chapter", 10)
    factories.officer(home, "president", holder=factories.user("president@example.org", name="Pat President"))
    preferences.opt_out("erin.opted@example.org", MailCategory.CHAPTER_NEWS, source="preferences")
    db.session.commit()
    return home


def test_the_audience_is_the_roster_list_with_its_filters_minus_opted_out_members(chapter_one, client, smtp_server):
    client.login("president@example.org")
    roster = client.get("/chapters/1/roster?view=expiring-30")
    assert "E-mail these members" in roster.get_data(as_text=True)
    compose = client.get("/chapters/1/messages/new?view=expiring-30&sort=name&page=1")
    page = compose.get_data(as_text=True)
    assert "The list you filtered — Roster: Expiring in 30 days" in page
    assert "4 members on this list today." in page
    filtered = re.search(r'name="roster_filter" type="hidden" value="([^"]*)"', page).group(1)

    response = client.submit("/chapters/1/messages/new", compose_form(client, 1, audience="list",
                                                                        roster_filter=filtered.replace("&amp;", "&"),
                                                                        subject="Renew, {{first_name}}"),
                             form_url="/chapters/1/messages/new?view=expiring-30")
    assert response.status_code == 302
    message = db.session.get(Message, message_id_from(response))
    listed = roster_count(chapter_one, RosterQuery.from_args({"view": "expiring-30"}))
    assert message.audience_count == listed == 4
    assert message.audience_description == "Roster: Expiring in 30 days"
    run_jobs()
    received = sorted(m["To"] for m in smtp_server)
    assert received == ["chris.okafor@example.org", "dana.zimmerman@example.org"]
    assert {m["Subject"] for m in smtp_server} == {"Renew, Chris", "Renew, Dana"}
    statuses = sending.recipients_counter(message.id)
    assert statuses[RecipientStatus.SKIPPED_PREFERENCE] == 1 and statuses[RecipientStatus.NO_ADDRESS] == 1


def test_every_message_carries_one_click_unsubscribe_headers_and_a_visible_link(chapter_one, client, smtp_server):
    client.login("president@example.org")
    client.submit("/chapters/1/messages/new", compose_form(client, 1, audience="view:expiring-30"))
    mail = next(m for m in smtp_server if m["To"] == "dana.zimmerman@example.org")
    unfolded = re.sub(r"\r?\n", "", mail["List-Unsubscribe"]).strip()  # a long header arrives folded (RFC 5322)
    https, mailto = re.fullmatch(r"<(https?://[^>]+)>,\s+<(mailto:[^>]+)>", unfolded).groups()
    assert "/unsubscribe/" in https and mailto.startswith("mailto:no-reply@chapter.local?subject=unsubscribe%20")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Unsubscribe from chapter news: {https}" in text_of(mail)


def test_the_sent_log_counts_match_what_the_smtp_server_received(chapter_one, client, smtp_server):
    client.login("president@example.org")
    client.submit("/chapters/1/messages/new", compose_form(client, 1, audience="all", subject="Annual meeting"))
    received = len(smtp_server)  # the worker has delivered what was queued
    log = client.get("/chapters/1/messages").get_data(as_text=True)
    row = re.search(r"Annual meeting</a></td>\s*<td>Everyone on the roster</td>((?:\s*<td[^>]*>\d+</td>){5})", log)
    on_list, queued, sent, failed, skipped = [int(n) for n in re.findall(r">(\d+)<", row.group(1))]
    assert received == sent == 4   # Dana, Chris, Lee, Noa (Erin opted out, Sam has no address)
    assert (on_list, queued, failed, skipped) == (6, 0, 0, 1)


def test_a_mail_the_server_refuses_for_good_counts_as_failed(chapter_one, app):
    from aiosmtpd.handlers import Message as Collect

    from tests.conftest import start_smtp_controller

    received = []

    class RefusesDana(Collect):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("dana."):
                return "550 5.1.1 No such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        def handle_message(self, message):
            received.append(message)

    controller = start_smtp_controller(RefusesDana())
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        message = composing.create_message(chapter_one, actor=factories.user(), kind="roster",
                                           params={"view": "expiring-30"}, category=MailCategory.CHAPTER_NEWS,
                                           subject="Hi", body="Hi")
        db.session.commit()
        run_jobs()
        sending.send_message(message.id)  # a second prompt: the message is sent, nothing is claimed
        run_jobs()
    finally:
        controller.stop()
    counts = sending.counts([message.id])[message.id]
    assert [m["To"] for m in received] == ["chris.okafor@example.org"]
    assert (counts.sent, counts.failed, counts.queued, counts.skipped) == (len(received), 1, 0, 1)


def test_a_scheduled_message_is_sent_once_by_two_workers(chapter_one, smtp_server):
    president = factories.user("other@example.org")
    message = composing.create_message(chapter_one, actor=president, kind="roster", params={"view": "expiring-30"},
                                       category=MailCategory.CHAPTER_NEWS, subject="Later", body="Hi {{first_name}}",
                                       send_at=utcnow() + timedelta(hours=2))
    db.session.commit()
    assert message.status is MessageStatus.SCHEDULED and message.frozen_at is None
    assert sending.send_due_messages() == "0 message(s) sent of 0 due"  # not due yet
    later = utcnow() + timedelta(hours=3)
    # Worker A claims the message; worker B's periodic run, a moment later, finds it taken.
    assert sending.claim(message.id, later) is True
    assert sending.send_due_messages(later) == "0 message(s) sent of 0 due"
    assert sending.send_message(message.id, later).startswith("not claimed")
    # Worker A dies mid-send: once its lease runs out, the next periodic run takes the message over, once.
    after_lease = later + sending.LEASE + timedelta(seconds=1)
    assert sending.send_due_messages(after_lease) == "1 message(s) sent of 1 due"
    assert sending.send_due_messages(after_lease) == "0 message(s) sent of 0 due"
    run_jobs()
    assert sorted(m["To"] for m in smtp_server) == ["chris.okafor@example.org", "dana.zimmerman@example.org"]
    db.session.refresh(message)
    assert message.status is MessageStatus.SENT and message.audience_count == 4


def test_an_unsubscribe_between_freezing_and_sending_takes_effect(chapter_one, smtp_server):
    president = factories.user("other@example.org")
    message = composing.create_message(chapter_one, actor=president, kind="roster", params={"view": "expiring-30"},
                                       category=MailCategory.CHAPTER_NEWS, subject="Now", body="Hi")
    preferences.opt_out("dana.zimmerman@example.org", MailCategory.CHAPTER_NEWS, source="link")
    db.session.commit()
    run_jobs()
    assert [m["To"] for m in smtp_server] == ["chris.okafor@example.org"]
    assert sending.counts([message.id])[message.id].skipped == 2


def test_the_daily_cap_refuses_the_fourth_message_of_the_day(chapter_one, client, smtp_server):
    client.login("president@example.org")
    for n in range(3):
        assert client.submit("/chapters/1/messages/new", compose_form(client, 1, subject=f"Note {n}")).status_code == 302
    refused = client.submit("/chapters/1/messages/new", compose_form(client, 1, subject="One too many"))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "has reached its cap of 3 messages" in page
    assert 'value="One too many"' in page  # what was typed is kept
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 3
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))
                             .where(AuditEntry.action == "communications.message_sent")) == 3


def test_staff_raise_a_chapters_daily_cap(chapter_one, client):
    factories.user("staff@example.org", is_staff=True)
    db.session.commit()
    client.login("staff@example.org")
    response = client.submit("/chapters/1/messages/cap", {"daily_cap": "5"}, form_url="/chapters/1/messages")
    assert response.status_code == 302
    assert composing.daily_cap(chapter_one) == 5
    assert client.submit("/chapters/1/messages/cap", {"daily_cap": "-1"},
                         form_url="/chapters/1/messages").status_code == 400


def test_merge_fields_fill_in_and_the_preview_shows_a_real_recipient(chapter_one, client, smtp_server):
    client.login("president@example.org")
    body = "Dear {{first_name}}, you are a member until {{member_until}}. [Renew]({{renew_link}})"
    response = client.submit("/chapters/1/messages/new", compose_form(client, 1, audience="view:expiring-30", body=body,
                                                                        preview="Preview"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and not smtp_server
    dana = (today() + timedelta(days=10))
    assert "As Dana (dana.zimmerman@example.org) will see it." in page
    assert f"Dear Dana, you are a member until {dana.day} {dana:%b %Y}." in page
    assert 'href="http://127.0.0.1:5000/membership/renew"' in page
    assert "Renew, " not in page and "{{first_name}}" in page  # the form keeps the text as typed


def test_an_unknown_merge_field_is_refused_by_the_field(chapter_one, client):
    client.login("president@example.org")
    response = client.submit("/chapters/1/messages/new", compose_form(client, 1, body="Hi {{frist_name}}"))
    assert response.status_code == 400
    assert "Unknown merge field {{frist_name}}" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_a_test_send_goes_to_the_officer_only(chapter_one, client, smtp_server):
    client.login("president@example.org")
    response = client.submit("/chapters/1/messages/new", compose_form(client, 1, subject="Hi {{first_name}}",
                                                                        test="Send me a test"))
    assert response.status_code == 200
    assert [(m["To"], m["Subject"]) for m in smtp_server] == [("president@example.org", "[Test] Hi Dana")]
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_a_markdown_body_is_sanitised(chapter_one, client, smtp_server):
    client.login("president@example.org")
    client.submit("/chapters/1/messages/new", compose_form(client, 1, audience="view:expiring-30",
                                                           body="**Bold** <script>alert(1)</script> [x](javascript:alert(1))"))
    html = next(part for part in smtp_server[0].walk() if part.get_content_type() == "text/html")
    content = html.get_payload(decode=True).decode()
    assert "<strong>Bold</strong>" in content
    assert "<script" not in content.lower() and 'href="javascript' not in content  # shown as text, never run


def test_a_message_scheduled_on_the_form_waits_and_can_be_cancelled(chapter_one, client, smtp_server):
    client.login("president@example.org")
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.submit("/chapters/1/messages/new", compose_form(client, 1, when="later", send_at=later))
    message = db.session.get(Message, message_id_from(response))
    assert message.status is MessageStatus.SCHEDULED and message.frozen_at is None
    assert "scheduled for" in client.get(response.headers["Location"]).get_data(as_text=True).lower()
    in_the_past = client.submit("/chapters/1/messages/new", compose_form(client, 1, when="later",
                                                                          send_at="2020-01-01T10:00"))
    assert "Choose a time in the future" in in_the_past.get_data(as_text=True)
    page = f"/chapters/1/messages/{message.id}"
    assert client.submit(f"{page}/cancel", form_url=page).status_code == 302
    db.session.refresh(message)
    assert message.status is MessageStatus.CANCELLED
    assert sending.send_due_messages(utcnow() + timedelta(days=3)) == "0 message(s) sent of 0 due"
    assert len(smtp_server) == 0


def test_a_members_own_name_stays_text_in_the_html(app, smtp_server):
    home = factories.chapter(1)
    member_until(home, "*Star* [x](https://evil.example)", "Name", 10, email="star@example.org")
    composing.create_message(home, actor=factories.user(), kind="roster", params={}, category=MailCategory.CHAPTER_NEWS,
                             subject="Hi", body="Dear {{first_name}}, [renew]({{renew_link}})")
    db.session.commit()
    html = next(p for p in smtp_server[0].walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "Dear *Star* [x](https://evil.example)," in html and "evil.example\"" not in html and "<em>" not in html
    assert '<a href="http://127.0.0.1:5000/membership/renew"' in html
    assert "Dear *Star* [x](https://evil.example)," in text_of(smtp_server[0])


def test_an_events_registrants_come_from_the_audiences_registry(app, monkeypatch, smtp_server):
    from chapter.core import audiences

    home = factories.chapter(1)
    registrant = member_until(home, "Reg", "Istrant", 100)
    seen = []

    def resolve(chapter_id, params):
        seen.append((chapter_id, params))
        return [audiences.Recipient(email=registrant.email, name="Reg Istrant", member_id=registrant.id),
                audiences.Recipient(email="guest@example.org", name="Gus Guest")]

    monkeypatch.setattr(audiences, "_loaded", True)
    monkeypatch.setitem(audiences._audiences, "event_registrants", audiences.Audience(
        "event_registrants", "Registrants of an event", resolve, lambda params: f"Registrants of event {params['event_id']}"))
    message = composing.create_message(home, actor=factories.user(), kind="event_registrants", params={"event_id": 7},
                                       category=MailCategory.EVENT_ANNOUNCEMENTS, subject="Tomorrow",
                                       body="See you, {{first_name}}")
    db.session.commit()
    assert message.audience_description == "Registrants of event 7" and message.audience_count == 2
    assert seen[0] == (home.id, {"event_id": 7})
    assert sorted((m["To"], text_of(m).split("\n")[0]) for m in smtp_server) == [
        ("guest@example.org", "See you, Gus"), ("reg.istrant@example.org", "See you, Reg")]
