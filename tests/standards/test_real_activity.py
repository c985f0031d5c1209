"""Standards and health count the events (ev-core's pd_event provider) and messages (comms-msg's communication
provider) that really exist, at the fiscal-year edges: the last day counts, the first day of the next does not."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from chapter.chapters.fiscal import fiscal_year_of
from chapter.communications import composing
from chapter.communications.models import MailCategory, Message
from chapter.core.models import today
from chapter.extensions import db
from chapter.health.figures import chapter_figures
from chapter.standards.evaluation import evaluate
from tests import factories
from tests.communications.helpers import member_until
from tests.conftest import run_jobs
from tests.events import factories as events


def test_the_standards_and_health_count_the_chapters_real_events_and_messages(app):
    home = factories.chapter(40, fiscal_year_start_month=7)
    year = fiscal_year_of(7, today()).previous()  # last fiscal year: over, every edge in the past
    after = year.ends_on + timedelta(days=1)
    held = {}
    for day, title in [(year.starts_on, "First-day plant tour"), (year.ends_on, "Last-day dinner"),
                       (after, "Next year's kick-off")]:
        held[title] = events.event(home, title=title, starts_at=datetime.combine(day, time(18, 0)))
    for _ in range(4):
        events.registration(held["Last-day dinner"], user=factories.user())
    for first in ("Ann", "Bea"):
        member_until(home, first, "Reader", 400)
    author = factories.officer(home, "president")
    sent = [composing.create_message(home, actor=author, kind="roster", params={}, category=MailCategory.CHAPTER_NEWS,
                                     subject=f"Newsletter {n}", body="Hello") for n in range(2)]
    db.session.commit()
    run_jobs()
    for message, day in zip(sent, (year.ends_on, after)):
        db.session.execute(sa.update(Message).where(Message.id == message.id)
                           .values(frozen_at=datetime.combine(day, time(23, 30) if day == year.ends_on else time(0, 0))))
    db.session.commit()

    result = evaluate(home, year)
    pd_events = next(s for s in result["standards"] if s["code"] == "pd_events")
    assert [(e["title"], e["count"]) for e in pd_events["evidence"]] == [("First-day plant tour", 0), ("Last-day dinner", 4)]
    assert pd_events["evidence"][1]["url"] == f"/events/{held['Last-day dinner'].id}"
    messages = next(s for s in result["standards"] if s["code"] == "communications")
    assert [(e["title"], e["count"]) for e in messages["evidence"]] == [("Newsletter 0", 2)]
    assert messages["evidence"][0]["url"] == f"/chapters/40/messages/{sent[0].id}"

    figures = chapter_figures([home.id], today())[home.id]
    position = figures.months.index(f"{year.ends_on:%Y-%m}")  # last fiscal year ended within the 24 months
    assert (figures["events"][position], figures["attendance"][position]) == (1, 4)
    assert (figures["messages"][position], figures["recipients"][position]) == (1, 2)
