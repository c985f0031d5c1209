"""Honorary memberships granted by staff (a year, never invoiced) and the unemployed extension (exactly six
free months, each after the last, at most three = 18 months), through the staff member page, clock pinned."""
from datetime import date

import sqlalchemy as sa

from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import MembershipStatus, MembershipTerm, TermSource
from chapter.payments.models import Order, Payment
from tests import factories


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _terms(member, source: TermSource) -> list[tuple[date, date]]:
    return [(t.starts_on, t.ends_on) for t in db.session.scalars(
        sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id, MembershipTerm.source == source)
        .order_by(MembershipTerm.starts_on))]


def test_staff_grant_an_honorary_membership_for_a_year_without_an_invoice(app, client, clock):
    clock("2026-01-31")
    member = factories.member(status="pending", email="ada@example.org", with_user=True)
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)

    response = client.submit(f"/admin/members/{member.member_number}", {
        "grant-membership_type_id": factories.membership_type("honorary").id, "grant-starts_on": "2026-01-31"})

    assert response.status_code == 302
    db.session.expire_all()
    # 31 Jan + 12 months - 1 day: one year of honorary membership, granted by staff.
    assert _terms(member, TermSource.STAFF_GRANT) == [(date(2026, 1, 31), date(2027, 1, 30))]
    granted = db.session.scalar(sa.select(MembershipTerm).where(MembershipTerm.member_id == member.id))
    assert granted.membership_type.code == "honorary" and granted.granted_by_id == staff.id and granted.order_id is None
    assert member.status_on(date(2026, 1, 31)) is MembershipStatus.ACTIVE and member.paid_through == date(2027, 1, 30)
    assert (_count(Order), _count(Payment)) == (0, 0)  # never invoiced
    page = client.get(f"/admin/members/{member.member_number}").get_data(as_text=True)
    assert "Honorary" in page and "30 Jan 2027" in page


def test_the_unemployed_extension_is_exactly_six_months_each_time_up_to_eighteen(app, client, clock):
    clock("2026-08-20")
    home = factories.chapter(40)
    member = factories.member(home=home, status="pending")
    member_services.grant_term(member, factories.membership_type(), starts_on=date(2025, 9, 1), ends_on=date(2026, 8, 31),
                               source=TermSource.PAYMENT, actor=None)
    president = factories.officer(home, "president", holder=factories.user("pres@example.org"))
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    url = f"/admin/members/{member.member_number}"

    messages = []
    for _ in range(3):
        response = client.submit(url, {"extension-approver_email": president.email})
        assert response.status_code == 302
        messages.append(client.get(url).get_data(as_text=True))

    db.session.expire_all()
    assert _terms(member, TermSource.EXTENSION) == [
        (date(2026, 9, 1), date(2027, 2, 28)),   # six months from 1 Sep, clamped to February's end
        (date(2027, 3, 1), date(2027, 8, 31)),
        (date(2027, 9, 1), date(2028, 2, 29)),   # a leap year
    ]
    assert member.paid_through == date(2028, 2, 29)
    assert "Extended until 28 Feb 2027." in messages[0] and "Extended until 29 Feb 2028." in messages[2]
    assert (_count(Order), _count(Payment)) == (0, 0)
    fourth = client.submit(url, {"extension-approver_email": president.email})
    assert fourth.status_code == 400 and "3 extensions allowed" in fourth.get_data(as_text=True)
    db.session.expire_all()
    assert member.paid_through == date(2028, 2, 29)
