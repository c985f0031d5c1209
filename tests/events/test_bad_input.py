"""Bad input on the event pages is a message or an ignored filter, never a 500."""
from __future__ import annotations

from chapter.extensions import db
from tests import factories
from tests.events import factories as events
from tests.events.test_officers import _form


def test_odd_filters_and_pages_are_ignored(app, client):
    chapter = factories.chapter()
    vp = factories.officer(chapter, "vp_programs")
    meeting = events.event(chapter)
    db.session.commit()
    for url in ("/events?page=abc&chapter=x9&district=ZZ&kind=party&when=yesterday", "/events?chapter=99999999999",
                "/events?page=-4", f"/events/{meeting.id + 1000}", "/events/99999999999999"):
        assert client.get(url).status_code in (200, 404), url
    client.login(vp.email)
    assert client.get(f"/chapters/{chapter.number}/events?sort=drop&dir=sideways&page=0&q=%25_").status_code == 200


def test_impossible_dates_and_too_many_sessions_are_messages_by_the_field(app, client):
    chapter = factories.chapter()
    vp = factories.officer(chapter, "vp_programs")
    db.session.commit()
    client.login(vp.email)
    url = f"/chapters/{chapter.number}/events/new"
    page = client.submit(url, _form(**{"sessions-0-starts": "2027-13-45T25:00"}))
    assert page.status_code == 200 and "Not a valid datetime value" in page.get_data(as_text=True)
    many = _form(**{f"sessions-{n}-starts": "2027-05-01T18:00" for n in range(2, 20)})
    assert client.submit(url, many).status_code == 200
    long_guest = client.submit(f"/events/{events.event(chapter).id}/register", {"guest_1": "x" * 500},
                               form_url="/events")
    assert long_guest.status_code == 302
