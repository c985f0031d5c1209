"""The roster's status counts are kept until the chapter's roster changes, whoever changes it, and never stale.

They are kept per process under the chapter, the day and generations raised by database triggers
(chapter.chapters.roster_counts). These tests change rosters the ways the application and its operators do (the
ORM, raw SQL on a connection of its own as another worker, an import or a payment webhook would) and read the
counts the roster page shows, on SQLite and PostgreSQL.
"""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.chapters import roster_counts
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import MembershipStatus, MembershipType
from tests import factories
from tests.querycount import committed_elsewhere, statements

ROSTER = "/chapters/40/roster"


@pytest.fixture
def chapters(app, client):
    """Chapter 40 (one active, one lapsed and one pending member; its president is not a member) and chapter 41
    (one active member)."""
    home = factories.chapter(40, name="Schuylkill Valley")
    other = factories.chapter(41, name="Lehigh Valley")
    made = {
        "active": factories.member(home=home, first_name="Ada", last_name="Lovelace"),
        "lapsed": factories.member(home=home, status="lapsed", first_name="Bo", last_name="Lapsed"),
        "pending": factories.member(home=home, status="pending", first_name="Cy", last_name="Pending"),
        "elsewhere": factories.member(home=other, first_name="Di", last_name="Away"),
    }
    officer = factories.officer(home, "president")
    db.session.commit()
    client.login(officer.email)
    made["home"], made["other"] = home, other
    return made


def shown_counts(client) -> dict[str, int]:
    """The roster's status buttons and their counts, e.g. {"All": 4, "Active": 2, ...}."""
    page = client.get(ROSTER)
    assert page.status_code == 200
    return {label: int(count) for label, count in re.findall(
        r'btn-(?:dark|outline-dark)" href="[^"]*">([A-Za-z ]+?) <span class="badge text-bg-light">(\d+)</span>',
        page.get_data(as_text=True))}


def status_counts_sent(run) -> int:
    """How many status-count statements (the roster's GROUP BY) `run()` sends to the database."""
    with statements() as sent:
        run()
    return sum("GROUP BY" in statement and "membership_terms" in statement for statement in sent)


def test_the_counts_are_counted_once_then_kept(chapters, client):
    assert status_counts_sent(lambda: shown_counts(client)) == 1
    assert status_counts_sent(lambda: shown_counts(client)) == 0
    assert shown_counts(client) == {"All": 3, "Active": 1, "In grace": 0, "Lapsed": 1, "Pending": 1}


def test_a_renewal_written_by_another_process_shows_at_once(chapters, client):
    shown_counts(client)
    later = today() + timedelta(days=300)
    committed_elsewhere("UPDATE members SET paid_through = :later, grace_ends_on = :later WHERE id = :id",
                       later=later, id=chapters["lapsed"].id)
    assert shown_counts(client)["Lapsed"] == 0
    assert shown_counts(client)["Active"] == 2


def test_a_member_leaving_or_joining_changes_both_chapters(chapters, client):
    assert roster_counts.roster_counts(chapters["other"].id)[MembershipStatus.ACTIVE] == 1
    shown_counts(client)
    committed_elsewhere("UPDATE members SET home_chapter_id = :other WHERE id = :id",
                       other=chapters["other"].id, id=chapters["active"].id)
    assert shown_counts(client)["Active"] == 0
    assert roster_counts.roster_counts(chapters["other"].id)[MembershipStatus.ACTIVE] == 2


def test_a_change_to_another_chapter_keeps_this_chapters_counts(chapters, client):
    shown_counts(client)
    committed_elsewhere("UPDATE members SET paid_through = NULL WHERE id = :id", id=chapters["elsewhere"].id)
    assert status_counts_sent(lambda: shown_counts(client)) == 0


def test_a_term_added_or_removed_counts_again(chapters, client):
    shown_counts(client)
    factories.member(home=chapters["home"], first_name="Ed", last_name="New")  # the ORM: a member and a term
    db.session.commit()
    assert shown_counts(client)["All"] == 4
    shown_counts(client)
    committed_elsewhere("DELETE FROM membership_terms WHERE member_id = :id", id=chapters["lapsed"].id)
    assert status_counts_sent(lambda: shown_counts(client)) == 1


def test_a_grace_period_changed_counts_every_chapter_again(chapters, client):
    # A status read from an earlier term's grace (a day before the current run of terms) depends on it.
    shown_counts(client)
    roster_counts.roster_counts(chapters["other"].id)
    grace = db.session.scalar(sa.select(MembershipType.grace_days).where(MembershipType.code == "professional"))
    committed_elsewhere("UPDATE membership_types SET grace_days = :days WHERE code = 'professional'", days=grace + 1000)
    assert status_counts_sent(lambda: shown_counts(client)) == 1
    assert status_counts_sent(lambda: roster_counts.roster_counts(chapters["other"].id)) == 1


def test_another_day_is_counted_for_itself(chapters, app):
    chapter_id = chapters["home"].id
    roster_counts.roster_counts(chapter_id)
    far = today() + timedelta(days=3000)
    assert status_counts_sent(lambda: roster_counts.roster_counts(chapter_id, far)) == 1
    assert roster_counts.roster_counts(chapter_id, far)[MembershipStatus.ACTIVE] == 0


def test_a_transaction_that_wrote_counts_for_itself_and_keeps_nothing(chapters, app):
    chapter_id = chapters["home"].id
    assert roster_counts.roster_counts(chapter_id)[MembershipStatus.PENDING] == 1
    factories.member(home=chapters["home"], status="pending", first_name="Fay", last_name="Uncommitted")
    db.session.flush()
    assert roster_counts.roster_counts(chapter_id)[MembershipStatus.PENDING] == 2
    db.session.rollback()
    assert roster_counts.roster_counts(chapter_id)[MembershipStatus.PENDING] == 1
    assert status_counts_sent(lambda: roster_counts.roster_counts(chapter_id)) == 0
