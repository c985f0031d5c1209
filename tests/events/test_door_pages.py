"""The officers' registrations page and CSV, the phone door list, walk-ins, tickets and certificates."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa
from markupsafe import escape

from chapter.core.audit import AuditEntry
from chapter.core.models import utcnow
from chapter.events import attendance, tickets
from chapter.events.models import PriceCategory, Registration, RegistrationStatus
from chapter.extensions import db
from tests import factories
from tests.events import factories as events


def _meeting_with_registrants(starts_in=timedelta(hours=-1)):
    chapter = factories.chapter(40, name="Schuylkill Valley")
    officer = factories.officer(chapter, "vp_programs")
    meeting = events.event(chapter, title="December PDM", starts_at=utcnow() + starts_in)
    people = {}
    for first, last, status in [("Ada", "Müller", RegistrationStatus.PAID), ("Bob", "Okafor", RegistrationStatus.PAID),
                                ("Cy", "Wong", RegistrationStatus.WAITLISTED), ("Di", "Evans", RegistrationStatus.CANCELLED),
                                ("=HYPERLINK(1)", "Evil", RegistrationStatus.PAID)]:
        member = factories.member(home=chapter, first_name=first, last_name=last, email=f"{first.lower().strip('=()1')}@example.org")
        people[first] = events.registration(meeting, member=member, status=status)
    attendance.check_in(people["Bob"], actor=officer)
    db.session.commit()
    return meeting, officer, people


def test_officers_search_filter_and_count_registrations(app, client):
    meeting, officer, _people = _meeting_with_registrants()
    client.login(officer.email)
    url = f"/events/{meeting.id}/registrations"

    page = client.get(url).get_data(as_text=True)
    assert "Showing 1–5 of 5 registrations" in page
    assert 'Checked in <span class="badge text-bg-light">1</span>' in page
    assert 'On the waitlist <span class="badge text-bg-light">1</span>' in page
    assert "Ada Müller" in client.get(url, query_string={"q": "müll"}).get_data(as_text=True)
    assert "Bob Okafor" in client.get(url, query_string={"q": "BOB@EXAMPLE"}).get_data(as_text=True)
    checked = client.get(url, query_string={"filter": "checked_in"}).get_data(as_text=True)
    assert "Bob Okafor" in checked and "Ada Müller" not in checked
    waiting = client.get(url, query_string={"filter": "waitlisted"}).get_data(as_text=True)
    assert "Cy Wong" in waiting and "Showing 1–1 of 1 registration" in waiting
    by_check_in = client.get(url, query_string={"sort": "checked_in"}).get_data(as_text=True)
    assert by_check_in.index("Bob Okafor") < by_check_in.index("Ada Müller")
    assert client.get(url, query_string={"filter": "bogus", "sort": "x", "page": "9" * 30}).status_code == 200


def test_the_csv_export_is_the_filtered_list_with_formulas_neutralised_and_is_logged(app, client):
    meeting, officer, _people = _meeting_with_registrants()
    client.login(officer.email)

    response = client.submit(f"/events/{meeting.id}/registrations.csv?filter=paid",
                             form_url=f"/events/{meeting.id}/registrations")

    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert response.mimetype == "text/csv" and rows[0][:4] == ["Name", "E-mail", "Category", "Status"]
    assert sorted(row[0] for row in rows[1:]) == ["'=HYPERLINK(1) Evil", "Ada Müller", "Bob Okafor"]
    assert next(row for row in rows if row[0] == "Bob Okafor")[8] != ""  # checked in
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "event.registrations_exported"))
    assert entry.actor_id == officer.id and "3 registration(s)" in entry.summary
    assert client.get(f"/events/{meeting.id}/registrations.csv").status_code == 405  # a GET exports nothing


def test_the_door_list_finds_by_name_and_checks_in_with_one_tap(app, client):
    meeting, officer, people = _meeting_with_registrants()
    client.login(officer.email)
    door = f"/events/{meeting.id}/door"

    found = client.get(door, query_string={"q": "ada"}).get_data(as_text=True)
    assert "Ada Müller" in found and "Bob Okafor" not in found and "Cy Wong" not in client.get(door).get_data(as_text=True)
    tapped = client.submit(f"/events/{meeting.id}/registrations/{people['Ada'].id}/check-in", {"q": "ada"},
                           form_url=door, follow_redirects=True).get_data(as_text=True)

    assert "Ada Müller checked in." in tapped
    assert 'data-testid="door-count">2</span> of 3 checked in' in tapped
    db.session.expire_all()
    assert db.session.get(Registration, people["Ada"].id).checked_in_by_id == officer.id


def test_a_walk_in_paid_in_cash_is_recorded_and_checked_in(app, client):
    meeting, officer, _people = _meeting_with_registrants()
    client.login(officer.email)
    url = f"/events/{meeting.id}/walk-in"

    refused = client.submit(url, {"name": "", "category": "non_member", "paid_by": "cash"})
    assert refused.status_code == 400 and "Enter the attendee&#39;s name." in refused.get_data(as_text=True)
    client.submit(url, {"name": "Wanda Walkin", "email": "wanda@example.org", "category": "non_member", "paid_by": "cash"})

    walk_in = db.session.scalar(sa.select(Registration).where(Registration.name == "Wanda Walkin"))
    assert (walk_in.status, walk_in.paid_at_door, walk_in.price_cents, walk_in.category) == (
        RegistrationStatus.PAID, "cash", 4000, PriceCategory.NON_MEMBER)
    assert walk_in.checked_in_at is not None and walk_in.checked_in_by_id == officer.id


def test_the_ticket_shows_a_qr_code_of_its_check_in_link_on_the_public_address(app, client):
    meeting, _officer, people = _meeting_with_registrants()
    registration = people["Ada"]
    member = registration.member
    member.user = factories.user(member.email, name="Ada Müller")
    registration.user_id = member.user.id
    db.session.commit()
    client.login(member.email)

    page = client.get(f"/tickets/{registration.id}").get_data(as_text=True)

    link = tickets.check_in_url(registration)
    assert link == f"{app.config['PUBLIC_BASE_URL']}/t/{registration.ticket_code}"
    assert f'src="{escape(tickets.qr_svg_data_uri(link))}"' in page  # the QR code drawn from exactly that link
    assert "Hilton Garden Inn, Ballroom B" in page


def test_an_attendee_gets_a_printable_certificate_and_a_pdf_once_attendance_is_final(app, client):
    meeting, officer, people = _meeting_with_registrants()
    client.login(officer.email)
    bob = people["Bob"]
    assert client.get(f"/tickets/{bob.id}/certificate").status_code == 404  # not final yet
    client.submit(f"/events/{meeting.id}/attendance", form_url=f"/events/{meeting.id}/registrations")

    page = client.get(f"/tickets/{bob.id}/certificate").get_data(as_text=True)
    pdf = client.get(f"/tickets/{bob.id}/certificate.pdf")

    assert 'data-testid="certificate-name">Bob Okafor<' in page and "2 maintenance points" in page
    assert pdf.mimetype == "application/pdf" and pdf.get_data().startswith(b"%PDF")
    assert client.get(f"/tickets/{people['Ada'].id}/certificate").status_code == 404  # did not attend


def test_a_member_walking_in_pays_by_card_through_the_same_order_the_officer_places(app, client):
    meeting, officer, _people = _meeting_with_registrants()
    walker = factories.member(home=meeting.chapter, first_name="Walt", last_name="Card", email="walt@example.org")
    db.session.commit()
    client.login(officer.email)
    url = f"/events/{meeting.id}/walk-in"

    visitor = client.submit(url, {"name": "No Record", "email": "nobody@example.org", "category": "non_member",
                                  "paid_by": "card"})
    response = client.submit(url, {"name": "Walt Card", "email": "walt@example.org", "category": "member",
                                   "paid_by": "card"})

    assert visitor.status_code == 400 and "record a visitor" in visitor.get_data(as_text=True)
    registration = db.session.scalar(sa.select(Registration).where(Registration.member_id == walker.id))
    assert response.headers["Location"].endswith(f"/pay/{registration.order_id}")
    assert (registration.status, registration.paid_at_door) == (RegistrationStatus.PENDING, "card")
    assert registration.order.purchaser_id == officer.id and registration.order.total_cents == 2500
    assert client.get(response.headers["Location"]).status_code == 200  # the officer's phone shows the card page
