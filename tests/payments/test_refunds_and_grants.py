"""Refunds (full or partial, with what happens to the term), free memberships, unemployed extensions."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import FOREVER, today
from chapter.extensions import db
from chapter.members.models import MembershipStatus, MembershipTerm, TermSource
from chapter.payments.models import OrderStatus, Payment, PaymentStatus, Refund
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.payments.helpers import pay_order, stripe_api


@pytest.fixture
def paid(app, client, stripe_peer):
    """Ada joined chapter #40 and paid $210 by card."""
    home = factories.chapter(40, name="Schuylkill Valley")
    other = factories.chapter(31, name="Pittsburgh")
    member = factories.member(home=home, status="pending", email="ada@example.org", with_user=True)
    people = {"staff": factories.staff(), "treasurer": factories.officer(home, "treasurer"),
              "other_treasurer": factories.officer(other, "treasurer"), "secretary": factories.officer(home, "secretary")}
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/membership/join", {"membership_type_id": factories.membership_type().id})
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    client.logout()
    payment = db.session.scalar(sa.select(Payment))
    return {"member": member, "payment": payment, "people": people, "peer": stripe_peer}


def _refund(client, payment, **form):
    """Fill the refund form and confirm on the page that follows (what staff do)."""
    first = client.submit(f"/payments/{payment.id}/refund", {"term_action": "keep", **form})
    if first.status_code != 200 or "Confirm the refund" not in first.get_data(as_text=True):
        return first
    return client.submit(f"/payments/{payment.id}/refund", {"term_action": "keep", **form, "confirmed": "yes"})


def test_the_refund_page_asks_for_confirmation_before_anything_is_refunded(paid, client, smtp_server):
    client.login(paid["people"]["staff"].email)
    payment = paid["payment"]
    first = client.submit(f"/payments/{payment.id}/refund", {"term_action": "void", "amount_cents": "210.00",
                                                            "reason": "Joined by mistake"})
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "Confirm the refund" in page
    assert "Refund <strong>$210.00</strong>" in page and "voided" in page and "This cannot be undone" in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 0
    assert db.session.get(Payment, payment.id).refunded_cents == 0
    assert stripe_api(paid["peer"], "/v1/refunds", None, method="GET")["data"] == []
    confirmed = client.submit(f"/payments/{payment.id}/refund", {"term_action": "void", "amount_cents": "210.00",
                                                                "reason": "Joined by mistake", "confirmed": "yes"})
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.REFUNDED
    # The member is told by e-mail, and the receipt shows the refund and what was paid net.
    run_jobs()
    [mail] = [m for m in smtp_server if m["Subject"].startswith("Refund on")]
    body = text_of(mail)
    assert mail["To"] == "ada@example.org" and "$210.00" in body and "Joined by mistake" in body
    assert "Net paid: $0.00" in body
    client.logout()
    client.login("ada@example.org")
    receipt = client.get(f"/payments/{payment.id}/receipt").get_data(as_text=True)
    assert "-$210.00" in receipt and 'data-testid="receipt-net">$0.00' in receipt


def test_partial_refund_keeps_the_term_and_the_split(paid, client):
    client.login(paid["people"]["staff"].email)
    payment = paid["payment"]
    response = _refund(client, payment, amount_cents="50.00", reason="Paid the wrong type")
    assert response.status_code == 302
    db.session.expire_all()
    payment = db.session.get(Payment, payment.id)
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED and payment.refunded_cents == 5000
    refund = db.session.scalar(sa.select(Refund))
    assert (refund.amount_cents, refund.chapter_share_cents, refund.association_share_cents) == (5000, 833, 4167)
    assert refund.stripe_refund_id.startswith("re_")
    assert payment.order.status is OrderStatus.PARTIALLY_REFUNDED
    assert paid["member"].status_on(today()) is MembershipStatus.ACTIVE
    # Stripe has the refund too.
    charges = stripe_api(paid["peer"], "/v1/refunds", None, method="GET")
    assert [r["amount"] for r in charges["data"]] == [5000]
    receipt = client.get(f"/payments/{payment.id}/receipt").get_data(as_text=True)
    assert "Paid the wrong type" in receipt and "-$50.00" in receipt


def test_full_refund_can_void_the_term(paid, client):
    client.login(paid["people"]["treasurer"].email)
    payment = paid["payment"]
    response = _refund(client, payment, amount_cents="210", reason="Joined by mistake", term_action="void")
    assert response.status_code == 302
    db.session.expire_all()
    member = paid["member"]
    assert db.session.get(Payment, payment.id).status is PaymentStatus.REFUNDED
    assert member.status_on(today()) is MembershipStatus.PENDING
    assert db.session.scalar(sa.select(MembershipTerm)).voided_at is not None
    from chapter.core.audit import AuditEntry
    actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.member_id == member.id)).all()
    assert "payment.refunded" in actions and "term.voided" in actions


def test_refund_can_shorten_the_term(paid, client):
    client.login(paid["people"]["staff"].email)
    end = today() + timedelta(days=30)
    response = _refund(client, paid["payment"], amount_cents="150", reason="Leaving the profession",
                       term_action="shorten", new_term_end=end.isoformat())
    assert response.status_code == 302
    db.session.expire_all()
    term = db.session.scalar(sa.select(MembershipTerm))
    assert term.ends_on == end and term.original_ends_on > end
    assert paid["member"].paid_through == end


def test_refund_more_than_paid_is_refused_and_nothing_moves(paid, client):
    client.login(paid["people"]["staff"].email)
    response = _refund(client, paid["payment"], amount_cents="300", reason="Too much")
    assert response.status_code == 400 and "At most $210.00 can be refunded." in response.get_data(as_text=True)
    response = _refund(client, paid["payment"], amount_cents="10", reason="")
    assert response.status_code == 400 and "Say why the money is refunded." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 0


@pytest.mark.parametrize("who", ["other_treasurer", "secretary"])
def test_refunds_are_refused_to_others(paid, client, who):
    client.login(paid["people"][who].email)
    assert client.get(f"/payments/{paid['payment'].id}/refund").status_code == 403
    assert client.get(f"/payments/{paid['payment'].id}/receipt").status_code == 403


def test_the_member_sees_the_receipt_but_cannot_refund(paid, client):
    client.login("ada@example.org")
    assert client.get(f"/payments/{paid['payment'].id}/receipt").status_code == 200
    assert client.get(f"/payments/{paid['payment'].id}/refund").status_code == 403
    assert "ORD-000001" in client.get("/my/payments").get_data(as_text=True)


def test_staff_grant_a_lifetime_membership_without_an_invoice(app, client):
    member = factories.member(status="lapsed")
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    response = client.submit(f"/admin/members/{member.member_number}", {
        "grant-membership_type_id": factories.membership_type("lifetime").id, "grant-starts_on": today().isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    assert member.paid_through == FOREVER and member.status_on(today() + timedelta(days=9000)) is MembershipStatus.ACTIVE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
    # A paid type cannot be granted for free.
    response = client.submit(f"/admin/members/{member.member_number}", {
        "grant-membership_type_id": factories.membership_type("professional").id, "grant-starts_on": today().isoformat()})
    assert response.status_code == 400


def test_unemployed_extension_needs_the_presidents_approval_and_stops_at_three(app, client):
    home = factories.chapter(40)
    member = factories.member(home=home, status="active")
    president = factories.officer(home, "president", holder=factories.user("pres@example.org"))
    factories.officer(home, "treasurer", holder=factories.user("treas@example.org"))
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    url = f"/admin/members/{member.member_number}"
    refused = client.submit(url, {"extension-approver_email": "treas@example.org"})
    assert refused.status_code == 400 and "president of the member" in refused.get_data(as_text=True)
    end = member.paid_through
    for _ in range(3):
        assert client.submit(url, {"extension-approver_email": president.email}).status_code == 302
    db.session.expire_all()
    extensions = db.session.scalars(sa.select(MembershipTerm).where(MembershipTerm.source == TermSource.EXTENSION)
                                    .order_by(MembershipTerm.starts_on)).all()
    assert len(extensions) == 3 and extensions[0].starts_on == end + timedelta(days=1)
    fourth = client.submit(url, {"extension-approver_email": president.email})
    assert fourth.status_code == 400 and "3 extensions allowed" in fourth.get_data(as_text=True)


def test_staff_member_pages_are_staff_only(app, client):
    member = factories.member(email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    assert client.get("/admin/members").status_code == 403
    assert client.get(f"/admin/members/{member.member_number}").status_code == 403

