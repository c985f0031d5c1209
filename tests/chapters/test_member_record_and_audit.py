"""The member's page for officers (notes, payments) and the audit log: what is recorded, who reads it, filters."""
from datetime import timedelta

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


def _join_and_pay(client, peer, member, type_code="professional"):
    """The member joins and pays by card through localstripe (the real payment path)."""
    from tests.payments.helpers import pay_order

    client.login(member.email)
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type(type_code).id})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, peer, order_id).get_json()["status"] == "succeeded"
    client.logout()
    from chapter.payments.models import Payment

    return db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id))


def test_the_member_page_shows_that_members_payments_only_and_no_card_details(world, client, stripe_peer):
    from chapter.core.permissions import roles_of
    from chapter.core.templating import format_date
    from chapter.payments import services as payment_services
    from chapter.payments.models import TermAction

    grace = factories.member(home=world["home"], status="pending", first_name="Grace", last_name="Hopper",
                             email="grace@example.org", with_user=True)
    bob = factories.member(home=world["home"], status="pending", first_name="Bob", last_name="Builder",
                           email="bob@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    for member, refunded_cents in ((grace, 3500), (bob, 1234)):  # each pays $210, then gets a partial refund
        paid = _join_and_pay(client, stripe_peer, member)
        payment_services.refund_payment(paid, amount_cents=refunded_cents, reason="Chapter discount",
                                        term_action=TermAction.KEEP, new_term_end=None, actor=staff, roles=roles_of(staff))
        db.session.commit()

    client.login("president@example.org")
    page = client.get(f"/chapters/40/members/{grace.member_number}").get_data(as_text=True)
    assert format_date(today()) in page and "$35.00 refunded" in page and "Partially refunded" in page
    assert page.count("$210.00") == 1 and "$12.34 refunded" not in page  # Bob's payment is not Grace's
    assert "4242" not in page and "visa" not in page.lower()
    bobs = client.get(f"/chapters/40/members/{bob.member_number}").get_data(as_text=True)
    assert bobs.count("$210.00") == 1 and "$12.34 refunded" in bobs and "$35.00 refunded" not in bobs
    adas = client.get(f"/chapters/40/members/{world['ada'].member_number}").get_data(as_text=True)
    assert "$210.00" not in adas and "refunded" not in adas  # Ada has paid nothing


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
