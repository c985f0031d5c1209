"""Corporate memberships: a contact buys seats through the Stripe card flow (localstripe), names employees,
frees seats, adds seats (prorated) and renews every seat in one payment; only the contact and staff manage them."""
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import today
from chapter.extensions import db
from chapter.members import corporate, corporate_offers
from chapter.members.models import (
    CorporateMembership, CorporateSeat, Member, MembershipStatus, MembershipTerm, Organization, TermSource,
)
from chapter.members.services import add_months, term_end
from chapter.payments import services as payment_services
from chapter.payments.models import Order, OrderPurpose, OrderStatus, Payment, PaymentStatus
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.payments.helpers import CARD_OK, confirm_card_setup, intent_event, pay_order, pay_page, signed_event

SEAT_CENTS = 18500


def _contact(email="carol@example.org"):
    """A registered user (with her own, pending member record) who will be the contact person."""
    factories.reference_data()  # the corporate seat type
    member = factories.member(status="pending", email=email, with_user=True, first_name="Carol", last_name="Contact")
    db.session.commit()
    return member.user


def _organization(contact, name="Acme Supply"):
    organization = corporate.create_organization(name=name, actor=contact)
    db.session.commit()
    return organization


def _corporate_membership(organization, *, starts_on=None, ends_on=None, seats=5):
    """A paid corporate membership with chosen dates (what fulfilment makes, without the payment)."""
    corporate_type = factories.membership_type("corporate_seat")
    if starts_on is None:
        starts_on = add_months(ends_on + timedelta(days=1), -12)
    made = CorporateMembership(organization_id=organization.id, membership_type_id=corporate_type.id, seats=seats,
                               starts_on=starts_on, ends_on=ends_on or term_end(starts_on, corporate_type))
    db.session.add(made)
    db.session.commit()
    return made


def _order_from(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert "/pay/" in response.headers["Location"], response.headers["Location"]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _bought(client, stripe_peer, organization, seats=5):
    """Buy seats through the pages and pay for them with a good card; returns the corporate membership."""
    order_id = _order_from(client.submit(f"/organizations/{organization.id}/buy", {"seats": seats}))
    answer = pay_order(client, stripe_peer, order_id)
    assert answer.get_json()["status"] == "succeeded", answer.get_json()
    db.session.expire_all()
    return corporate.current_corporate_membership(organization, today())


def _name_employee(client, organization, **data):
    return client.submit(f"/organizations/{organization.id}/seats", data)


def _link_from(message) -> str:
    body = text_of(message)
    # Links are built on PUBLIC_BASE_URL, never on the request's Host header (the test client's is localhost).
    return re.search(r"http://127\.0\.0\.1:5000(/reset-password/\S+)", body).group(1)


# --- Buying -----------------------------------------------------------------------------------

def test_a_contact_starts_an_organization_and_buys_five_seats_for_925_dollars(app, client, stripe_peer, smtp_server):
    contact = _contact()
    client.login("carol@example.org")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/organizations"' in dashboard and "Corporate membership" in dashboard
    response = client.submit("/organizations/new", {"name": "Acme Supply", "country": "US"})
    organization = db.session.scalar(sa.select(Organization))
    assert response.headers["Location"].endswith(f"/organizations/{organization.id}/buy")
    assert organization.contact_user_id == contact.id and organization.billing_email == "carol@example.org"
    assert "Acme Supply" in client.get("/dashboard").get_data(as_text=True)  # her organizations are listed

    buy_page = client.get(f"/organizations/{organization.id}/buy").get_data(as_text=True)
    assert 'value="5"' in buy_page and "$185.00" in buy_page
    order_id = _order_from(client.submit(f"/organizations/{organization.id}/buy", {"seats": 5}))
    order = db.session.get(Order, order_id)
    assert (order.purpose, order.total_cents, order.seats) == (OrderPurpose.CORPORATE_SEATS, 92500, 5)
    assert order.member_id is None and order.organization_id == organization.id and order.purchaser_id == contact.id
    assert [(line.quantity, line.unit_price_cents, line.amount_cents) for line in order.lines] == [(5, SEAT_CENTS, 92500)]
    # The split: everything to the association, no chapter (the seats have no holders yet).
    assert (order.association_share_cents, order.chapter_share_cents, order.chapter_id) == (92500, 0, None)

    answer = pay_order(client, stripe_peer, order_id)
    assert answer.status_code == 200 and answer.get_json()["status"] == "succeeded", answer.get_json()
    db.session.expire_all()
    bought = db.session.scalar(sa.select(CorporateMembership))
    assert (bought.seats, bought.starts_on, bought.order_id) == (5, today(), order_id)
    assert bought.ends_on == add_months(today(), 12) - timedelta(days=1)
    assert (order.status, order.covers_from, order.covers_until) == (OrderStatus.PAID, bought.starts_on, bought.ends_on)
    payment = db.session.scalar(sa.select(Payment))
    assert (payment.status, payment.amount_cents) == (PaymentStatus.SUCCEEDED, 92500)
    assert (payment.association_share_cents, payment.chapter_share_cents, payment.chapter_id) == (92500, 0, None)
    assert db.session.get(Organization, organization.id).stripe_customer_id.startswith("cus_")
    # The receipt goes to the organization's billing address and names the organization.
    run_jobs()
    assert len(smtp_server) == 1 and smtp_server[0]["To"] == "carol@example.org"
    assert "Acme Supply" in client.get(answer.get_json()["redirect"]).get_data(as_text=True)

    page = client.get(f"/organizations/{organization.id}").get_data(as_text=True)
    assert re.search(r'data-testid="seats-used">\s*0 of 5', page)
    assert "Name an employee" in page and "Add seats" in page
    # Paid orders are fulfilled once: the webhook arriving later changes nothing.
    assert payment_services.fulfil_order(payment) is False
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CorporateMembership)) == 1


def test_fewer_than_five_seats_are_refused_with_a_message_by_the_field(app, client):
    organization = _organization(_contact())
    client.login("carol@example.org")
    response = client.submit(f"/organizations/{organization.id}/buy", {"seats": 4})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="seats-error">\s*A corporate membership has at least 5 seats\.', page)
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_second_click_on_buy_reuses_the_open_order(app, client):
    organization = _organization(_contact())
    client.login("carol@example.org")
    first = _order_from(client.submit(f"/organizations/{organization.id}/buy", {"seats": 5}))
    second = _order_from(client.submit(f"/organizations/{organization.id}/buy", {"seats": 6}))
    assert first == second
    assert db.session.get(Order, first).total_cents == 6 * SEAT_CENTS


def test_buying_again_is_refused_while_the_corporate_membership_is_current(app, client):
    organization = _organization(_contact())
    _corporate_membership(organization, starts_on=today() - timedelta(days=10))
    client.login("carol@example.org")
    assert client.get(f"/organizations/{organization.id}/buy").status_code == 302
    with pytest.raises(DomainError, match="add seats or renew"):
        corporate.start_corporate_purchase(organization, 5, actor=organization.contact_user)


# --- Naming employees -------------------------------------------------------------------------

def test_a_new_employee_gets_a_member_number_an_active_term_like_the_organizations_and_can_log_in(
        app, client, stripe_peer, smtp_server):
    organization = _organization(_contact())
    client.login("carol@example.org")
    bought = _bought(client, stripe_peer, organization)
    run_jobs()
    smtp_server.clear()
    home = factories.chapter(40, name="Schuylkill Valley")
    db.session.commit()

    response = _name_employee(client, organization, first_name="Eve", last_name="Employee",
                              email="Eve@Acme.example", home_chapter_id=home.id)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    employee = db.session.scalar(sa.select(Member).where(Member.email == "eve@acme.example"))
    assert employee.member_number.isdigit() and employee.home_chapter_id == home.id
    assert employee.organization_id == organization.id and employee.employer == "Acme Supply"
    term = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == employee.id))
    assert (term.source, term.starts_on, term.ends_on) == (TermSource.CORPORATE, bought.starts_on, bought.ends_on)
    assert (term.corporate_membership_id, term.organization_id) == (bought.id, organization.id)
    assert employee.status_on(today()) is MembershipStatus.ACTIVE and employee.paid_through == bought.ends_on
    seat = db.session.scalar(sa.select(CorporateSeat))
    assert (seat.member_id, seat.term_id, seat.assigned_on, seat.released_on) == (employee.id, term.id, today(), None)

    page = client.get(f"/organizations/{organization.id}").get_data(as_text=True)
    assert re.search(r'data-testid="seats-used">\s*1 of 5', page)
    assert "Eve Employee" in page and employee.member_number in page and "Active" in page

    # The employee is e-mailed their number and a link to choose a password, then logs in.
    run_jobs()
    assert len(smtp_server) == 1 and smtp_server[0]["To"] == "eve@acme.example"
    assert employee.member_number in text_of(smtp_server[0])
    link = _link_from(smtp_server[0])
    client.logout()
    assert client.submit(link, {"password": "supply-chain-2026", "confirm": "supply-chain-2026"}).status_code == 302
    client.login("eve@acme.example", "supply-chain-2026")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'data-testid="membership-status">\s*<span class="badge badge-status-active">Active</span>', dashboard)
    assert employee.member_number in dashboard and "Acme Supply" in dashboard
    # The employee does not manage the organization.
    assert client.get(f"/organizations/{organization.id}").status_code == 403


def _seat_existing(bought, contact, member, day=None):
    """An existing member named by number holds the seat once they accept the offer."""
    offer = corporate_offers.offer_seat(bought, member_number=member.member_number, actor=contact, day=day)
    return corporate_offers.accept_seat_offer(offer, actor=member.user, day=day)


def test_an_existing_member_named_by_number_is_asked_and_holds_the_seat_only_once_they_accept(app, client, smtp_server):
    organization = _organization(_contact())
    bought = _corporate_membership(organization, starts_on=today() - timedelta(days=30))
    existing = factories.member(status="lapsed", email="pat@example.org", with_user=True, first_name="Pat",
                                last_name="Private")
    db.session.commit()
    client.login("carol@example.org")
    response = _name_employee(client, organization, member_number="  " + existing.member_number)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    flashed = client.get(response.headers["Location"]).get_data(as_text=True)
    # The contact sees the number they typed and nothing else of the member.
    assert f"member number {existing.member_number} is asked to accept" in flashed
    assert "Pat" not in flashed and "Private" not in flashed and "pat@example.org" not in flashed
    assert re.search(r'data-testid="seats-used">\s*0 of 5', flashed)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CorporateSeat)) == 0
    assert len(existing.terms) == 1  # nothing granted yet
    # The member is told by mail, with a link built on PUBLIC_BASE_URL.
    run_jobs()
    assert [m["To"] for m in smtp_server] == ["pat@example.org"]
    body = text_of(smtp_server[0])
    assert re.search(r"http://127\.0\.0\.1:5000/seat-offers/\S+", body)
    client.logout()

    client.login("pat@example.org")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="seat-offer"' in dashboard and "Acme Supply offers you a seat" in dashboard
    response = client.submit(re.search(r'action="(/seat-offers/[^"]+)"', dashboard).group(1), {"answer": "accept"},
                             form_url="/dashboard")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 2  # the contact and Pat: nobody new
    newest = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == existing.id)
                               .order_by(MembershipTerm.id.desc()))
    # Named mid-term: from today (not backdated) to the organization's end.
    assert (newest.source, newest.starts_on, newest.ends_on) == (TermSource.CORPORATE, today(), bought.ends_on)
    assert len(existing.terms) == 2  # the old term stays in the history
    assert "badge-status-active" in client.get("/dashboard").get_data(as_text=True)
    client.logout()
    client.login("carol@example.org")
    assert "Pat Private" in client.get(f"/organizations/{organization.id}").get_data(as_text=True)


def test_a_declined_offer_changes_nothing_and_the_contact_never_learns_who_it_was(app, client):
    contact = _contact()
    organization = _organization(contact)
    bought = _corporate_membership(organization, starts_on=today())
    existing = factories.member(status="active", email="dan@example.org", with_user=True, first_name="Dan",
                                last_name="Decliner")
    offer = corporate_offers.offer_seat(bought, member_number=existing.member_number, actor=contact)
    db.session.commit()
    client.login("dan@example.org")
    assert client.submit(f"/seat-offers/{offer.token}", {"answer": "decline"}).status_code == 302
    client.logout()
    client.login("carol@example.org")
    page = client.get(f"/organizations/{organization.id}").get_data(as_text=True)
    assert f"Member number {existing.member_number}: declined" in page and "Dan" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CorporateSeat)) == 0
    # Nobody else can answer someone's offer, not even the contact.
    other = corporate_offers.offer_seat(bought, member_number=existing.member_number, actor=contact)
    db.session.commit()
    assert client.submit(f"/seat-offers/{other.token}", {"answer": "accept"},
                         form_url=f"/organizations/{organization.id}").status_code == 404
    with pytest.raises(NotAllowed):
        corporate_offers.accept_seat_offer(other, actor=contact)


def test_a_seat_offered_to_a_member_without_a_login_comes_with_the_claim_link(app, client, smtp_server):
    organization = _organization(_contact())
    _corporate_membership(organization, starts_on=today())
    imported = factories.member(status="lapsed", email="ivy@example.org", first_name="Ivy", last_name="Imported")
    db.session.commit()
    client.login("carol@example.org")
    assert _name_employee(client, organization, member_number=imported.member_number).status_code == 302
    client.logout()
    run_jobs()
    body = text_of(smtp_server[0])
    claim = re.search(r"http://127\.0\.0\.1:5000(/claim/\S+)", body).group(1)
    offer = re.search(r"http://127\.0\.0\.1:5000(/seat-offers/\S+)", body).group(1)
    assert client.submit(claim, {"password": "ivy-league-garden-4", "confirm": "ivy-league-garden-4"}).status_code == 302
    assert client.submit(offer, {"answer": "accept"}).status_code == 302
    assert db.session.scalar(sa.select(CorporateSeat.member_id)) == imported.id


def test_an_unknown_member_number_or_a_members_email_is_refused_by_the_field(app, client):
    organization = _organization(_contact())
    _corporate_membership(organization, starts_on=today())
    factories.member(email="taken@example.org")
    db.session.commit()
    client.login("carol@example.org")
    response = _name_employee(client, organization, member_number="999")
    assert response.status_code == 400
    assert re.search(r'id="member_number-error">\s*No member has this number\.', response.get_data(as_text=True))
    response = _name_employee(client, organization, first_name="Tom", last_name="Taken", email="taken@example.org")
    assert response.status_code == 400
    assert re.search(r'id="email-error">\s*A member already uses this e-mail address', response.get_data(as_text=True))
    response = _name_employee(client, organization, first_name="No", last_name="Mail")
    assert re.search(r'id="email-error">\s*Enter the employee', response.get_data(as_text=True))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CorporateSeat)) == 0


def test_naming_is_refused_when_all_seats_are_taken_or_the_person_holds_a_seat(app, client):
    contact = _contact()
    organization = _organization(contact)
    bought = _corporate_membership(organization, starts_on=today())
    first = factories.member(status="pending", with_user=True)
    _seat_existing(bought, contact, first)
    db.session.commit()
    client.login("carol@example.org")
    response = _name_employee(client, organization, member_number=first.member_number)
    assert response.status_code == 302  # asked: the contact is not told where they hold a seat
    offer = db.session.scalar(sa.select(corporate_offers.SeatOffer).where(
        corporate_offers.SeatOffer.status == corporate_offers.SeatOfferStatus.PENDING))
    with pytest.raises(DomainError, match="You already hold a corporate seat"):
        corporate_offers.accept_seat_offer(offer, actor=first.user)
    corporate_offers.cancel_seat_offer(offer, actor=contact)

    for n in range(4):
        corporate.assign_seat(bought, actor=contact, first_name="Employee", last_name=f"Number{n}", email=f"e{n}@acme.example")
    db.session.commit()
    response = _name_employee(client, organization, first_name="One", last_name="Toomany", email="six@acme.example")
    assert response.status_code == 400
    assert "All 5 seats are taken. Add seats, or free one first." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Member).where(Member.email == "six@acme.example")) is None
    assert corporate.seats_used(bought) == 5


# --- Freeing seats ----------------------------------------------------------------------------

def test_freeing_a_seat_keeps_the_member_but_ends_the_corporate_term_from_that_day(app, client):
    contact = _contact()
    organization = _organization(contact)
    bought = _corporate_membership(organization, starts_on=today() - timedelta(days=60))
    only_corporate = corporate.assign_seat(bought, actor=contact, first_name="Eve", last_name="Employee",
                                           email="eve@acme.example", day=today() - timedelta(days=30)).seat
    own_term = factories.member(status="active", first_name="Olga", with_user=True)  # her own term runs ~265 more days
    with_own_term = _seat_existing(bought, contact, own_term, day=today() - timedelta(days=30)).seat
    db.session.commit()
    client.login("carol@example.org")

    for seat in (only_corporate, with_own_term):
        response = client.submit(f"/organizations/{organization.id}/seats/{seat.id}/release", {},
                                 form_url=f"/organizations/{organization.id}")
        assert response.status_code == 302
    db.session.expire_all()
    eve = only_corporate.member
    assert only_corporate.released_on == today() and eve.member_number and eve.organization_id is None
    term = db.session.get(MembershipTerm, only_corporate.term_id)
    assert term.ends_on == today() - timedelta(days=1) and term.original_ends_on == bought.ends_on
    assert term.voided_at is None  # history kept: she was a member for those 30 days
    assert eve.status_on(today()) is not MembershipStatus.ACTIVE and eve.paid_through == today() - timedelta(days=1)
    # A member with her own term stays active on it.
    assert own_term.status_on(today()) is MembershipStatus.ACTIVE
    assert db.session.get(MembershipTerm, with_own_term.term_id).ends_on == today() - timedelta(days=1)
    # The seats can go to someone else.
    assert corporate.seats_used(bought) == 0
    page = client.get(f"/organizations/{organization.id}").get_data(as_text=True)
    assert re.search(r'data-testid="seats-used">\s*0 of 5', page)
    # A second click frees nothing twice.
    response = client.submit(f"/organizations/{organization.id}/seats/{only_corporate.id}/release", {},
                             form_url=f"/organizations/{organization.id}", follow_redirects=True)
    assert "This seat is already free." in response.get_data(as_text=True)


def test_a_freed_employee_in_grace_may_renew_on_their_own_without_a_gap(app, client, stripe_peer):
    contact = _contact()
    organization = _organization(contact)
    bought = _corporate_membership(organization, starts_on=today() - timedelta(days=60))
    held = corporate.assign_seat(bought, actor=contact, first_name="Eve", last_name="Employee", email="eve@acme.example",
                                 day=bought.starts_on)
    assert payment_services.renewal_options(held.member, today()).can_renew is False  # the employer renews the seat
    corporate.release_seat(held.seat, actor=contact)
    held.member.user.set_password("supply-chain-2026")
    db.session.commit()
    options = payment_services.renewal_options(held.member, today())
    assert options.can_renew and options.renew_from == today()
    client.login("eve@acme.example", "supply-chain-2026")
    response = client.submit("/membership/renew", {"membership_type_id": factories.membership_type("professional").id})
    assert pay_order(client, stripe_peer, _order_from(response)).get_json()["status"] == "succeeded"
    db.session.expire_all()
    newest = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == held.member.id)
                               .order_by(MembershipTerm.id.desc()))
    assert (newest.source, newest.starts_on) == (TermSource.PAYMENT, today())
    assert held.member.status_on(today()) is MembershipStatus.ACTIVE


def test_freeing_a_seat_named_on_the_day_voids_the_term_that_had_not_started(app):
    contact = _contact()
    organization = _organization(contact)
    bought = _corporate_membership(organization, starts_on=today() + timedelta(days=3))  # paid, starts later
    seat = corporate.assign_seat(bought, actor=contact, first_name="Eve", last_name="Early", email="eve@acme.example").seat
    term = db.session.get(MembershipTerm, seat.term_id)
    assert term.starts_on == bought.starts_on
    corporate.release_seat(seat, actor=contact)
    assert term.voided_at is not None and seat.member.paid_through is None
    assert seat.member.status_on(today()) is MembershipStatus.PENDING


# --- Adding seats -----------------------------------------------------------------------------

def test_adding_two_seats_is_prorated_by_day_for_the_rest_of_the_term(app):
    contact = _contact()
    organization = _organization(contact)
    corporate_type = factories.membership_type("corporate_seat")
    bought = CorporateMembership(organization_id=organization.id, membership_type_id=corporate_type.id, seats=5,
                                 starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    db.session.add(bought)
    db.session.flush()
    order = corporate.start_add_seats(organization, 2, actor=contact, day=date(2026, 7, 1))
    # 184 of 365 days left: 185.00 × 184 / 365 = 93.26 a seat (rounded down), 186.52 for two.
    assert (order.purpose, order.seats, order.total_cents) == (OrderPurpose.CORPORATE_ADD_SEATS, 2, 18652)
    assert [(line.quantity, line.unit_price_cents, line.amount_cents) for line in order.lines] == [(2, 9326, 18652)]
    assert (order.covers_from, order.covers_until) == (date(2026, 7, 1), date(2026, 12, 31))
    assert "remaining 184 of 365 days" in order.description
    assert (order.association_share_cents, order.chapter_share_cents) == (18652, 0)


def test_added_seats_are_paid_through_the_card_flow_and_can_be_filled(app, client, stripe_peer):
    contact = _contact()
    organization = _organization(contact)
    bought = _corporate_membership(organization, starts_on=today() - timedelta(days=100))
    for n in range(5):
        corporate.assign_seat(bought, actor=contact, first_name="Employee", last_name=f"N{n}", email=f"e{n}@acme.example")
    db.session.commit()
    client.login("carol@example.org")
    days_in_term = (bought.ends_on - bought.starts_on).days + 1
    days_left = (bought.ends_on - today()).days + 1
    expected = 2 * (SEAT_CENTS * days_left // days_in_term)
    page = client.get(f"/organizations/{organization.id}/add-seats").get_data(as_text=True)
    assert f"{days_left} of its {days_in_term} days" in page
    order_id = _order_from(client.submit(f"/organizations/{organization.id}/add-seats", {"seats": 2}))
    assert db.session.get(Order, order_id).total_cents == expected
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    db.session.expire_all()
    assert db.session.get(CorporateMembership, bought.id).seats == 7
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CorporateMembership)) == 1
    response = _name_employee(client, organization, first_name="Six", last_name="Th", email="six@acme.example")
    assert response.status_code == 302
    assert corporate.seats_used(bought) == 6


# --- Renewing ---------------------------------------------------------------------------------

def test_renewing_all_seats_in_one_payment_gives_every_employee_the_next_term(app, client, stripe_peer):
    contact = _contact()
    organization = _organization(contact)
    bought = _corporate_membership(organization, ends_on=today() + timedelta(days=20))  # inside the renewal window
    staying = [corporate.assign_seat(bought, actor=contact, first_name="Stay", last_name=f"N{n}", email=f"s{n}@acme.example").member
               for n in range(3)]
    leaving = corporate.assign_seat(bought, actor=contact, first_name="Lea", last_name="Ving", email="lea@acme.example",
                                    day=today() - timedelta(days=10))
    corporate.release_seat(leaving.seat, actor=contact)
    db.session.commit()
    client.login("carol@example.org")
    page = client.get(f"/organizations/{organization.id}").get_data(as_text=True)
    assert "Renew all seats" in page

    too_few = client.submit(f"/organizations/{organization.id}/renew", {"seats": 4})
    assert too_few.status_code == 400 and "Renew at least 5 seats" in too_few.get_data(as_text=True)
    order_id = _order_from(client.submit(f"/organizations/{organization.id}/renew", {"seats": 5}))
    order = db.session.get(Order, order_id)
    next_start = bought.ends_on + timedelta(days=1)
    assert (order.purpose, order.total_cents, order.covers_from) == (OrderPurpose.CORPORATE_RENEWAL, 92500, next_start)
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"

    db.session.expire_all()
    renewed = corporate.latest_corporate_membership(organization)
    assert (renewed.starts_on, renewed.ends_on, renewed.seats) == (next_start, term_end(next_start, renewed.membership_type), 5)
    assert renewed.id != bought.id and renewed.order_id == order_id
    for member in staying:
        newest = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id)
                                   .order_by(MembershipTerm.starts_on.desc()))
        assert (newest.source, newest.starts_on, newest.ends_on) == (TermSource.CORPORATE, next_start, renewed.ends_on)
        assert newest.corporate_membership_id == renewed.id and member.paid_through == renewed.ends_on
    assert leaving.member.paid_through == today() - timedelta(days=1)  # freed seats are not renewed
    assert corporate.seats_used(renewed) == 3
    page = client.get(f"/organizations/{organization.id}").get_data(as_text=True)
    assert "Renewed: the next term runs" in page and "Renew all seats" not in page

    # Someone named now also gets the renewed term; freeing them later takes both back.
    assert _name_employee(client, organization, first_name="New", last_name="Comer", email="new@acme.example").status_code == 302
    newcomer = db.session.scalar(sa.select(Member).where(Member.email == "new@acme.example"))
    assert newcomer.paid_through == renewed.ends_on and corporate.seats_used(renewed) == 4
    seat = db.session.scalar(sa.select(CorporateSeat).where(CorporateSeat.member_id == newcomer.id,
                                                            CorporateSeat.corporate_membership_id == bought.id))
    corporate.release_seat(seat, actor=contact)
    db.session.commit()
    future = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == newcomer.id,
                                                               MembershipTerm.corporate_membership_id == renewed.id))
    assert future.voided_at is not None and corporate.seats_used(renewed) == 3
    assert newcomer.paid_through is None  # named and freed on the same day: both terms voided, never a member


def test_a_renewal_paid_in_grace_and_fulfilled_by_the_webhook_continues_without_a_gap(app, client, stripe_peer):
    contact = _contact()
    organization = _organization(contact)
    ended = _corporate_membership(organization, ends_on=today() - timedelta(days=10))
    employee = corporate.assign_seat(ended, actor=contact, first_name="Eve", last_name="Employee", email="eve@acme.example",
                                     day=ended.starts_on).member
    db.session.commit()
    assert employee.status_on(today()) is MembershipStatus.GRACE
    client.login("carol@example.org")
    assert client.get(f"/organizations/{organization.id}/buy").status_code == 302  # in grace: renew, not buy
    order_id = _order_from(client.submit(f"/organizations/{organization.id}/renew", {"seats": 5}))
    # The browser goes away after Stripe charged the card: only the webhook tells us.
    setup_intent, _ = pay_page(client, order_id)
    confirmed = confirm_card_setup(stripe_peer, setup_intent, CARD_OK)
    payment = payment_services.open_payment(db.session.get(Order, order_id))
    db.session.commit()
    result = payment_services.charge_payment(payment, payment_method_id=confirmed["payment_method"])
    payment.stripe_payment_intent_id = result.id
    db.session.commit()
    intent = {"id": result.id, "object": "payment_intent", "status": "succeeded", "amount": 92500, "currency": "usd",
              "metadata": {"order_id": str(order_id), "payment_id": str(payment.id)}}
    body, signature = signed_event(intent_event("evt_corporate_renewal", intent))
    answer = client.client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature,
                                                                       "Content-Type": "application/json"})
    assert answer.status_code == 200 and "fulfilled" in answer.get_json()["outcome"], answer.get_json()
    db.session.expire_all()
    renewed = corporate.latest_corporate_membership(organization)
    assert renewed.starts_on == ended.ends_on + timedelta(days=1) and renewed.seats == 5
    assert employee.paid_through == renewed.ends_on and employee.status_on(today()) is MembershipStatus.ACTIVE
    assert [t.starts_on for t in employee.terms] == [ended.starts_on, renewed.starts_on]  # no gap, nothing overwritten


def test_after_grace_the_organization_buys_a_new_corporate_membership(app, client):
    organization = _organization(_contact())
    _corporate_membership(organization, ends_on=today() - timedelta(days=40))
    client.login("carol@example.org")
    assert client.get(f"/organizations/{organization.id}/buy").status_code == 200
    assert client.get(f"/organizations/{organization.id}/renew").status_code == 302
    assert client.get(f"/organizations/{organization.id}/seats").status_code == 302  # nothing to name people to
    _order_from(client.submit(f"/organizations/{organization.id}/buy", {"seats": 5}))


def test_renewal_is_refused_before_the_window_opens(app, client):
    organization = _organization(_contact())
    _corporate_membership(organization, starts_on=today() - timedelta(days=10))
    client.login("carol@example.org")
    response = client.get(f"/organizations/{organization.id}/renew", follow_redirects=True)
    assert "Renewal opens on" in response.get_data(as_text=True)
    with pytest.raises(DomainError, match="Renewal opens on"):
        corporate.start_corporate_renewal(organization, actor=organization.contact_user)


# --- Permissions ------------------------------------------------------------------------------

def _pages(organization, seat_id):
    base = f"/organizations/{organization.id}"
    return [base, f"{base}/buy", f"{base}/add-seats", f"{base}/renew", f"{base}/seats"], f"{base}/seats/{seat_id}/release"


def test_only_the_contact_and_staff_manage_an_organization(app, client):
    contact = _contact()
    organization = _organization(contact)
    bought = _corporate_membership(organization, starts_on=today() - timedelta(days=300))
    seat = corporate.assign_seat(bought, actor=contact, first_name="Eve", last_name="Employee", email="eve@acme.example").seat
    order = corporate.start_add_seats(organization, 1, actor=contact)
    factories.member(email="mallory@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    pages, release = _pages(organization, seat.id)

    # Anonymous: the log-in page.
    for url in pages + [f"/pay/{order.id}", "/organizations", "/organizations/new"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    # Another user: forbidden, whatever the page; a seat cannot be freed either.
    client.login("mallory@example.org")
    for url in pages + [f"/pay/{order.id}"]:
        assert client.get(url).status_code == 403, url
    response = client.submit(release, {}, form_url="/organizations")
    assert response.status_code == 403
    assert client.submit(f"/organizations/{organization.id}/seats", {"member_number": "1"}, form_url="/organizations").status_code == 403
    assert client.get("/organizations/999999").status_code == 404
    assert "Acme Supply" not in client.get("/organizations").get_data(as_text=True)
    with pytest.raises(NotAllowed):
        corporate.assign_seat(bought, actor=db.session.scalar(sa.select(Member).where(Member.email == "mallory@example.org")).user,
                              first_name="X", last_name="Y", email="x@example.org")
    db.session.rollback()
    client.logout()

    # Staff: every page, and they may name and free seats.
    client.login(staff.email)
    for url in pages:
        response = client.get(url)
        if url.endswith("/buy"):  # the membership is current: staff, like the contact, are sent back to its page
            assert response.status_code == 302 and response.headers["Location"] == pages[0], url
        else:
            assert response.status_code == 200, url
    assert "Acme Supply" in client.get("/organizations").get_data(as_text=True)
    assert client.get(f"/organizations/{organization.id}").status_code == 200
    assert client.submit(release, {}, form_url=f"/organizations/{organization.id}").status_code == 302
    assert _name_employee(client, organization, first_name="Sam", last_name="Seat", email="sam@acme.example").status_code == 302
    # A seat of another organization is not found through this one.
    other = _organization(contact, name="Other Co")
    assert client.submit(f"/organizations/{other.id}/seats/{seat.id}/release", {},
                         form_url=f"/organizations/{other.id}").status_code == 404


def test_staff_start_an_organization_for_a_registered_contact(app, client):
    contact = _contact()
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    response = client.submit("/organizations/new", {"name": "Globex", "contact_email": "nobody@example.org", "country": "US"})
    assert response.status_code == 400 and "No registered user has this e-mail address." in response.get_data(as_text=True)
    response = client.submit("/organizations/new", {"name": "Globex", "contact_email": "carol@example.org", "country": "US",
                                                    "billing_email": "ap@globex.example"})
    assert response.status_code == 302
    globex = db.session.scalar(sa.select(Organization))
    assert (globex.contact_user_id, globex.billing_email) == (contact.id, "ap@globex.example")
    with pytest.raises(NotAllowed):
        corporate.create_organization(name="Initech", actor=contact, contact=staff)
    # A user is not offered the contact field at all.
    client.logout()
    client.login("carol@example.org")
    assert "contact_email" not in client.get("/organizations/new").get_data(as_text=True)
    assert "Globex" in client.get("/organizations").get_data(as_text=True)


def test_a_seat_owes_the_employees_home_chapter_the_seat_types_share_and_shows_in_its_remittances(app, client, stripe_peer):
    from chapter.treasury import reports
    from chapter.treasury.models import LedgerEntry, LedgerKind

    organization = _organization(_contact())
    client.login("carol@example.org")
    bought = _bought(client, stripe_peer, organization)
    home = factories.chapter(40, name="Schuylkill Valley")
    employee = factories.member(status="lapsed", home=home, email="pat@example.org", first_name="Pat",
                                with_user=True)
    db.session.commit()
    assert _name_employee(client, organization, member_number=employee.member_number).status_code == 302
    offer = db.session.scalar(sa.select(corporate_offers.SeatOffer))
    corporate_offers.accept_seat_offer(offer, actor=employee.user)  # the seat is theirs once they accept
    db.session.commit()
    db.session.expire_all()
    shares = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.CHAPTER_SHARE,
                                                             LedgerEntry.chapter_id == home.id)).all()
    assert [(e.amount_cents, e.currency) for e in shares] == [(3500, "USD")]
    assert shares[0].payment_id == db.session.scalar(sa.select(Payment.id).where(Payment.order_id == bought.order_id))
    report = reports.remittance_report(home, today().replace(day=1), today())
    assert report.share_owed_cents == 3500 and report.balance_cents == 3500


def test_a_seat_share_points_at_the_payment_that_paid_the_order_not_at_a_declined_one(app, client, stripe_peer):
    """The contact's first card is declined, the second pays: a seat named afterwards books its chapter share against
    the paid payment (the treasurer follows the share to the money), never against the declined attempt."""
    from chapter.payments.models import PAID_STATUSES
    from chapter.treasury.models import LedgerEntry, LedgerKind
    from tests.payments.helpers import CARD_DECLINED_ON_CHARGE

    from chapter.payments import attempts, dues

    # Another member's dues, paid by cheque before: the share must not point at the first paid payment of all.
    joining = factories.member(home=factories.chapter(41), status="pending")
    join = dues.start_join(joining, factories.membership_type(), actor=None)
    attempts.record_offline_payment(join, amount_cents=join.total_cents, received_on=today(), reference="Cheque 1",
                                    actor=factories.staff())
    db.session.commit()
    organization = _organization(_contact())
    client.login("carol@example.org")
    order_id = _order_from(client.submit(f"/organizations/{organization.id}/buy", {"seats": 5}))
    declined = pay_order(client, stripe_peer, order_id, CARD_DECLINED_ON_CHARGE)
    assert declined.get_json()["status"] != "succeeded", declined.get_json()
    paid = pay_order(client, stripe_peer, order_id)
    assert paid.get_json()["status"] == "succeeded", paid.get_json()
    db.session.expire_all()
    payments = db.session.scalars(sa.select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)).all()
    assert [p.status for p in payments] == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    assert payments[1].status in PAID_STATUSES
    home = factories.chapter(40, name="Schuylkill Valley")
    db.session.commit()

    assert _name_employee(client, organization, email="kim@example.org", first_name="Kim", last_name="Ng",
                          home_chapter_id=home.id).status_code == 302

    share = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.CHAPTER_SHARE,
                                                           LedgerEntry.reference.like("seat:%")))
    assert share.chapter_id == home.id and share.payment_id == payments[1].id
