"""The "communication" activity that chapter health and the standards read: messages sent in [start, end)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from chapter.communications import composing
from chapter.communications.models import MailCategory, Message
from chapter.core import activity
from chapter.core.models import utcnow
from chapter.extensions import db
from tests import factories
from tests.communications.helpers import member_until


def test_messages_sent_count_in_the_period_with_their_recipients(app):
    home, other = factories.chapter(1), factories.chapter(2)
    for first in ("Ann", "Bea", "Cy"):
        member_until(home, first, "Reader", 100)
    member_until(home, "Nomail", "Reader", 100, email=None)
    member_until(other, "Other", "Reader", 100)
    author = factories.user()
    sent = [composing.create_message(home, actor=author, kind="roster", params={}, category=MailCategory.CHAPTER_NEWS,
                                     subject=f"Note {n}", body="Hi") for n in range(3)]
    composing.create_message(home, actor=author, kind="roster", params={}, category=MailCategory.CHAPTER_NEWS,
                             subject="Later", body="Hi", send_at=utcnow() + timedelta(days=3))
    db.session.commit()
    from tests.conftest import run_jobs

    run_jobs()
    # Put the three on the period's edges: the first day counts, the day after the last does not.
    for message, moment in zip(sent, (datetime(2026, 7, 1, 0, 0), datetime(2027, 6, 30, 23, 59), datetime(2027, 7, 1))):
        db.session.execute(sa.update(Message).where(Message.id == message.id).values(frozen_at=moment))
    db.session.commit()

    items = activity.items("communication", home.id, date(2026, 7, 1), date(2027, 7, 1))
    assert [(item.day, item.title, item.count) for item in items] == [
        (date(2026, 7, 1), "Note 0", 3), (date(2027, 6, 30), "Note 1", 3)]  # the member without an address not counted
    assert items[0].url == f"/chapters/1/messages/{sent[0].id}"
    assert activity.items("communication", other.id, date(2026, 7, 1), date(2027, 7, 1)) == []
    assert "communication" in {kind.key for kind in activity.kinds()}
