"""A message's set time is typed and shown in its chapter's zone, stored as UTC, and sent at that instant."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from chapter.communications import sending
from chapter.communications.models import Message, MessageStatus
from chapter.core.models import today
from chapter.extensions import db
from tests import factories
from tests.communications.helpers import compose_form, member_until, message_id_from
from tests.conftest import run_jobs


@pytest.fixture
def chicago(app):
    home = factories.chapter(1, name="Windy City", timezone="America/Chicago")
    member_until(home, "Dana", "Zimmerman", 100)
    factories.officer(home, "president", holder=factories.user("president@example.org", name="Pat President"))
    db.session.commit()
    return home


def test_a_message_set_for_18_00_in_chicago_is_stored_as_that_instant_shown_back_and_sent_not_a_minute_before(
        chicago, client, smtp_server):
    client.login("president@example.org")
    assert "Send at (America/Chicago)" in client.get("/chapters/1/messages/new").get_data(as_text=True)
    day = today() + timedelta(days=3)
    response = client.submit("/chapters/1/messages/new",
                             compose_form(client, 1, when="later", send_at=f"{day:%Y-%m-%d}T18:00"))
    assert response.status_code == 302, response.get_data(as_text=True)
    message = db.session.get(Message, message_id_from(response))
    instant = datetime.combine(day, time(18, 0), ZoneInfo("America/Chicago")).astimezone(timezone.utc)
    assert message.send_at == instant.replace(tzinfo=None) and message.status is MessageStatus.SCHEDULED
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{day:%d %b %Y}, 18:00 C" in page and "UTC" not in page  # CST or CDT, never the UTC clock
    assert f"{day:%d %b %Y}, 18:00 C" in client.get("/chapters/1/messages").get_data(as_text=True)

    with time_machine.travel(instant - timedelta(minutes=1), tick=False):
        assert sending.send_due_messages() == "0 message(s) sent of 0 due"
    with time_machine.travel(instant, tick=False):
        assert sending.send_due_messages() == "1 message(s) sent of 1 due"
    run_jobs()
    assert [m["To"] for m in smtp_server] == ["dana.zimmerman@example.org"]


def test_a_time_the_clocks_skip_is_refused_by_the_field_and_kept(chicago, client, smtp_server):
    client.login("president@example.org")
    march = today().year + 1
    gap = next(datetime(march, 3, d, 2, 30) for d in range(8, 15) if datetime(march, 3, d).weekday() == 6)
    typed = f"{gap:%Y-%m-%dT%H:%M}"
    response = client.submit("/chapters/1/messages/new", compose_form(client, 1, when="later", send_at=typed))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "does not exist in America/Chicago" in html and f'value="{typed}"' in html
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_a_time_the_clocks_repeat_is_refused_by_the_field(chicago, client, smtp_server):
    client.login("president@example.org")
    year = today().year + 1
    repeated = next(datetime(year, 11, d, 1, 30) for d in range(1, 8) if datetime(year, 11, d).weekday() == 6)
    response = client.submit("/chapters/1/messages/new",
                             compose_form(client, 1, when="later", send_at=f"{repeated:%Y-%m-%dT%H:%M}"))
    assert response.status_code == 400 and "happens twice in America/Chicago" in response.get_data(as_text=True)


def test_the_staff_log_shows_each_message_in_its_chapters_zone(chicago, client, smtp_server):
    from chapter.communications import composing
    from chapter.communications.models import MailCategory

    berlin = factories.chapter(2, name="Berlin", timezone="Europe/Berlin")
    moment = datetime.combine(today() + timedelta(days=2), time(12, 0))  # naive UTC
    for home in (chicago, berlin):
        composing.create_message(home, actor=factories.user(), kind="roster", params={},
                                 category=MailCategory.CHAPTER_NEWS, subject=f"Hi {home.name}", body="Hi",
                                 send_at=moment)
    factories.user("staff@example.org", is_staff=True)
    db.session.commit()
    client.login("staff@example.org")
    html = client.get("/admin/messages").get_data(as_text=True)
    chicago_shown = moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("America/Chicago"))
    berlin_shown = moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Europe/Berlin"))
    assert f"{chicago_shown:%H:%M %Z} <span class=\"small text-muted\">(America/Chicago)" in html
    assert f"{berlin_shown:%H:%M %Z} <span class=\"small text-muted\">(Europe/Berlin)" in html
