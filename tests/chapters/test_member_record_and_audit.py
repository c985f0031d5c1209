"""The member's page for officers (notes, payments) and the audit log: what is recorded, who reads it, filters."""
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from chapter.chapters import services
from chapter.core import audit
from chapter.core.audit import AuditEntry
from chapter.core.models import today
from chapter.extensions import db
from chapter.members import services as member_services
from tests import factories


@pytest.fixture
def world(app):
    home = factories.chapter(40, name="Schuylkill Valley")
    other = factories.chapter(31, name="Pittsburgh")
    ada = factories.member(home=home, first_name="Ada", last_name="Lovelace", email="ada@example.org")
    president = factories.officer(home, "president", holder=factories.user("president@example.org", name="Pat President"))
    secretary = factories.officer(home, "secretary", holder=factories.user("secretary@example.org", name="Sam Secretary"))
    db.session.commit()
    return {"home": home, "other": other, "ada": ada, "president": president, "secretary": secretary}


def test_an_officer_adds_a_dated_note(world, client):
    client.login("secretary@example.org")
    url = f"/chapters/40/members/{world['ada'].member_number}"
    response = client.submit(url + "/notes", {"noted_on": (today() - timedelta(days=2)).isoformat(),
                                              "body": "Called: will renew next month."}, form_url=url)
    assert response.status_code == 302 and response.headers["Location"].endswith("#notes")
    page = client.get(url).get_data(as_text=True)
    assert "Called: will renew next month." in page and "Sam Secretary" in page


def test_an_empty_or_future_note_is_refused_with_a_message(world, client):
    client.login("secretary@example.org")
    url = f"/chapters/40/members/{world['ada'].member_number}"
    empty = client.submit(url + "/notes", {"noted_on": today().isoformat(), "body": "  "}, form_url=url)
    assert empty.status_code == 400 and "Write the note." in empty.get_data(as_text=True)
    future = client.submit(url + "/notes", {"noted_on": (today() + timedelta(days=1)).isoformat(), "body": "Hi"}, form_url=url)
    assert future.status_code == 400 and "A note cannot be dated in the future." in future.get_data(as_text=True)


def test_notes_stay_with_the_chapter_that_wrote_them(world, client):
    services.add_note(world["home"], world["ada"], noted_on=today(), body="Prefers e-mail.", actor=world["secretary"])
    member_services.change_home_chapter(world["ada"], world["other"], actor=None)
    pittsburgh = factories.officer(world["other"], "president")
    db.session.commit()
    client.login(pittsburgh.email)
    page = client.get(f"/chapters/31/members/{world['ada'].member_number}").get_data(as_text=True)
    assert "Lovelace" in page and "Prefers e-mail." not in page


def test_the_member_page_shows_payments_without_card_details(world, client, monkeypatch):
    from chapter.payments import services as payment_services
    from chapter.payments.models import PaymentStatus

    payment = SimpleNamespace(succeeded_at=datetime(2026, 3, 1, 10, 0), created_at=datetime(2026, 3, 1, 9, 59),
                              amount_cents=21000, refunded_cents=3500, currency="USD",
                              status=PaymentStatus.PARTIALLY_REFUNDED, card_brand="visa", card_last4="4242")
    monkeypatch.setattr(payment_services, "member_payments", lambda member: [payment])
    client.login("president@example.org")
    page = client.get(f"/chapters/40/members/{world['ada'].member_number}").get_data(as_text=True)
    assert "1 Mar 2026" in page and "$210.00" in page and "$35.00 refunded" in page and "Partially refunded" in page
    assert "4242" not in page and "visa" not in page.lower()


def test_changes_to_members_terms_and_officers_are_recorded_with_before_and_after(world):
    ada = world["ada"]
    member_services.update_profile(ada, actor=world["secretary"], city="London", employer="Babbage")
    member_services.grant_term(ada, factories.membership_type(), starts_on=today(), source=member_services.TermSource.PAYMENT,
                               actor=world["president"])
    services.appoint_officer(world["home"], user=factories.user(name="Tess Treasurer"), position=factories.position("treasurer"),
                             starts_on=today(), ends_on=None, actor=world["president"])
    entries = {e.action: e for e in db.session.scalars(sa.select(AuditEntry).where(AuditEntry.chapter_id == world["home"].id))}
    updated = entries["member.updated"]
    assert updated.before == {"city": None, "employer": None} and updated.after == {"city": "London", "employer": "Babbage"}
    assert updated.actor_id == world["secretary"].id and updated.member_id == ada.id
    assert entries["term.created"].after["type"] == "professional"
    assert entries["officer.appointed"].summary.startswith("Tess Treasurer appointed Treasurer / VP Finance")
    assert "member.created" in entries and "member.transferred" in entries


def test_an_unchanged_profile_records_nothing(world):
    before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    member_services.update_profile(world["ada"], actor=world["secretary"], first_name="Ada", last_name="Lovelace")
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == before


def test_the_president_reads_the_log_filtered_by_member_or_by_person_acting(world, client):
    bob = factories.member(home=world["home"], first_name="Bob", last_name="Babbage")
    member_services.update_profile(world["ada"], actor=world["secretary"], city="London")
    member_services.update_profile(bob, actor=world["president"], city="Leeds")
    db.session.commit()
    client.login("president@example.org")
    everything = client.get("/chapters/40/audit").get_data(as_text=True)
    assert "Ada Lovelace: city changed" in everything and "Bob Babbage: city changed" in everything
    by_member = client.get(f"/chapters/40/audit?member={world['ada'].member_number}").get_data(as_text=True)
    assert "Ada Lovelace: city changed" in by_member and "Bob Babbage: city changed" not in by_member
    assert "City set to London." in by_member
    by_actor = client.get(f"/chapters/40/audit?actor={world['president'].id}").get_data(as_text=True)
    assert "Bob Babbage: city changed" in by_actor and "Ada Lovelace: city changed" not in by_actor
    assert "Sam Secretary (secretary@example.org)" in by_actor  # the choice of people who acted
    unknown = client.get("/chapters/40/audit?member=0000000").get_data(as_text=True)
    assert "No member has the number 0000000." in unknown and "city changed" not in unknown


def test_a_chapters_log_holds_only_its_own_entries(world):
    audit.record("member.updated", actor=None, chapter_id=world["other"].id, summary="Elsewhere")
    db.session.flush()
    page = audit.chapter_log(world["home"].id, audit.AuditQuery())
    assert "Elsewhere" not in [e.summary for e in page.items]


def test_audit_values_are_stored_as_json(world):
    entry = audit.record("member.updated", actor=world["president"], chapter_id=world["home"].id,
                         summary="x", before={"paid_through": today()}, after={"status": services.RosterView.EXPIRING_30})
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEntry, entry.id)
    assert stored.before == {"paid_through": today().isoformat()} and stored.after == {"status": "expiring-30"}
