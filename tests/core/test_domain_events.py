"""The seams features meet at: domain events, activity, audiences."""
from datetime import date

import pytest

from chapter.core import activity, domain_events


def test_a_published_event_reaches_its_subscribers_and_an_unknown_name_is_refused(monkeypatch):
    # Only this test's subscriber: the features' own (outgoing webhooks) need a database.
    monkeypatch.setattr(domain_events, "_by_name", {})
    monkeypatch.setattr(domain_events, "_for_all", [])
    seen = []

    def record(name, payload):
        seen.append((name, payload["member_id"]))

    domain_events.subscribe("member.renewed", record)
    domain_events.subscribe("member.renewed", record)  # twice: called once
    domain_events.publish("member.renewed", {"member_id": 7})
    domain_events.publish("member.joined", {"member_id": 8})
    assert seen == [("member.renewed", 7)]
    with pytest.raises(ValueError):
        domain_events.publish("member.renewd", {})
    with pytest.raises(ValueError):
        domain_events.subscribe("member.renewd", record)


def test_an_activity_kind_nobody_provides_is_empty_and_a_second_provider_is_refused():
    assert activity.items("no_such_kind", 1, date(2026, 1, 1), date(2027, 1, 1)) == []

    def provider(chapter_id, start, end):
        return [activity.Item(day=start, title="x", count=3)]

    activity.register("test_kind", "Test", provider)
    try:
        assert activity.items("test_kind", 1, date(2026, 1, 1), date(2027, 1, 1))[0].count == 3
        with pytest.raises(ValueError):
            activity.register("test_kind", "Test", lambda *a: [])
    finally:
        del activity._kinds["test_kind"]
