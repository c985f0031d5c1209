"""Chapter health figures against memberships counted by hand (a clock pinned at 2026-06-15)."""
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.chapters.models import Chapter
from chapter.core.models import today
from chapter.extensions import db
from chapter.health.figures import chapter_figures
from chapter.members import services as member_services
from chapter.members.models import Member, TermSource
from tests import activity_providers, factories


def _member(home, *terms, type_code="professional"):
    member = factories.member(home=home, status="pending")
    for starts_on, ends_on in terms:
        member_services.grant_term(member, factories.membership_type(type_code), starts_on=starts_on,
                                   ends_on=ends_on, source=TermSource.PAYMENT, actor=None)
    return member


@pytest.fixture
def seeded(app, clock, monkeypatch):
    clock("2026-06-15")
    home = factories.chapter(40)
    other = factories.chapter(31)
    _member(home, (date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 12, 31)))  # A: renewed
    _member(home, (date(2025, 3, 1), date(2026, 2, 28)))                                            # B: lapses in March
    _member(home, (date(2024, 9, 1), date(2025, 8, 31)), (date(2026, 2, 10), date(2027, 2, 9)))    # C: won back
    _member(home, (date(2026, 5, 10), date(2027, 5, 9)))                                            # D: new in May
    _member(home, (date(2020, 1, 1), None), type_code="lifetime")                                   # G: lifetime
    factories.member(home=home, status="pending")                                                   # not counted
    _member(other, (date(2025, 1, 1), date(2025, 12, 31)))                                          # another chapter
    fake = activity_providers.install(monkeypatch)
    fake.add("pd_event", home.id, date(2026, 3, 12), "Plant tour", count=25)
    fake.add("pd_event", home.id, date(2026, 3, 30), "Dinner meeting", count=40)
    fake.add("communication", home.id, date(2026, 4, 1), "April newsletter", count=300)
    db.session.commit()
    return chapter_figures([home.id, other.id], today())[home.id]


def _at(figures, month: str, *names):
    position = figures.months.index(month)
    return tuple(figures[name][position] for name in names)


def test_the_window_is_the_24_months_ending_this_month(seeded):
    assert seeded.months[0] == "2024-07" and seeded.months[-1] == "2026-06" and len(seeded.months) == 24


@pytest.mark.parametrize("month, active, grace, lapsed", [
    ("2024-07", 1, 0, 0),   # only the lifetime member
    ("2024-09", 2, 0, 0),   # C joined
    ("2025-03", 4, 0, 0),   # A, B, C, lifetime
    ("2025-09", 3, 1, 0),   # C's term ended 31 August: in grace on 30 September
    ("2025-10", 3, 0, 1),   # C lapsed
    ("2026-02", 4, 0, 0),   # C back on 10 February; B's last day is 28 February
    ("2026-03", 3, 0, 1),   # B's grace ended 30 March
    ("2026-06", 4, 0, 1),   # D joined in May
])
def test_members_by_status_at_the_end_of_each_month_match_a_hand_count(seeded, month, active, grace, lapsed):
    assert _at(seeded, month, "active", "grace", "lapsed") == (active, grace, lapsed)


def test_renewals_count_the_terms_due_each_month_and_those_followed_by_a_term(seeded):
    assert _at(seeded, "2025-08", "due", "renewed") == (1, 0)   # C did not renew
    assert _at(seeded, "2025-12", "due", "renewed") == (1, 1)   # A renewed
    assert _at(seeded, "2026-02", "due", "renewed") == (1, 0)   # B did not
    assert sum(seeded["due"]) == 3 and sum(seeded["renewed"]) == 1
    assert seeded.renewal_rate(12) == pytest.approx(1 / 3)


def test_new_lapsed_and_won_back_members_are_counted_in_the_month_they_happen(seeded):
    new = {m: n for m, n in zip(seeded.months, seeded["new"]) if n}
    assert new == {"2024-09": 1, "2025-01": 1, "2025-03": 1, "2026-05": 1}
    assert {m: n for m, n in zip(seeded.months, seeded["lapsed_in"]) if n} == {"2025-10": 1, "2026-03": 1}
    assert {m: n for m, n in zip(seeded.months, seeded["won_back"]) if n} == {"2026-02": 1}


def test_events_and_messages_come_from_the_activity_registry(seeded):
    assert _at(seeded, "2026-03", "events", "attendance") == (2, 65)
    assert _at(seeded, "2026-04", "messages", "recipients") == (1, 300)
    assert sum(seeded["events"]) == 2


def test_a_member_who_lapsed_and_came_back_twice_is_counted_in_each_run(app, clock):
    clock("2026-06-15")
    home = factories.chapter(50)
    _member(home, (date(2024, 8, 1), date(2024, 10, 31)), (date(2025, 3, 1), date(2025, 5, 31)),
            (date(2026, 1, 15), date(2027, 1, 14)))
    db.session.commit()
    figures = chapter_figures([home.id], today())[home.id]
    status = {m: (a, g, lapsed) for m, a, g, lapsed in zip(figures.months, figures["active"], figures["grace"],
                                                             figures["lapsed"])}
    assert status["2024-07"] == (0, 0, 0)
    assert status["2024-10"] == (1, 0, 0) and status["2024-11"] == (0, 1, 0) and status["2024-12"] == (0, 0, 1)
    assert status["2025-03"] == (1, 0, 0) and status["2025-06"] == (0, 1, 0) and status["2025-07"] == (0, 0, 1)
    assert status["2026-01"] == (1, 0, 0) and status["2026-06"] == (1, 0, 0)
    in_month = lambda name: {m: n for m, n in zip(figures.months, figures[name]) if n}  # noqa: E731
    assert in_month("lapsed_in") == {"2024-12": 1, "2025-07": 1}
    assert in_month("won_back") == {"2025-03": 1, "2026-01": 1}
    assert in_month("new") == {"2024-08": 1}
    assert in_month("due") == {"2024-10": 1, "2025-05": 1} and sum(figures["renewed"]) == 0


def test_figures_kept_between_requests_follow_every_change_of_the_members(seeded):
    home_id = db.session.scalar(sa.select(Chapter.id).where(Chapter.number == 40))
    before = chapter_figures([home_id], today())[home_id]
    assert before["active"][-1] == 4
    _member(db.session.get(Chapter, home_id), (date(2026, 6, 1), date(2027, 5, 31)))
    db.session.commit()
    after = chapter_figures([home_id], today())[home_id]
    assert after["active"][-1] == 5 and after["new"][-1] == 1
    member = db.session.scalar(sa.select(Member).where(Member.joined_on == date(2026, 6, 1)))
    member.home_chapter_id = None  # moved away: the figures follow
    db.session.commit()
    assert chapter_figures([home_id], today())[home_id]["active"][-1] == 4
