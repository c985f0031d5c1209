"""Honorary and lifetime members are never invoiced; Honorary Chapter renews online at the association's portion."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import today
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import TermSource
from chapter.payments import renewals
from chapter.payments import services as payment_services
from chapter.payments.models import RenewalReminder
from tests import factories
from tests.conftest import run_jobs


def _member_of(type_code: str, starts_on: date, email: str, ends_on: date | None = None):
    member = factories.member(home=factories.chapter(), status="pending", email=email, with_user=True)
    member_services.grant_term(member, factories.membership_type(type_code), starts_on=starts_on, ends_on=ends_on,
                               source=TermSource.STAFF_GRANT, actor=None)
    return member


@pytest.mark.parametrize("type_code", ["honorary", "lifetime"])
def test_no_reminder_of_any_kind_whatever_the_end_date(app, smtp_server, type_code):
    # An honorary term ends on 2026-12-31 (the type has 12 months); lifetime has an end date far ahead, but
    # here it is forced to 2026-12-31 too: the type, not the date, decides.
    never = _member_of(type_code, date(2026, 1, 1), "never@example.org", ends_on=date(2026, 12, 31))
    paying = _member_of("professional", date(2026, 1, 1), "paying@example.org")
    db.session.commit()
    for day in (date(2026, 11, 1), date(2026, 12, 1), date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 31)):
        renewals.send_reminders(day)
    run_jobs()
    assert {m["To"] for m in smtp_server} == {"paying@example.org"}
    assert db.session.scalar(sa.select(sa.func.count()).where(RenewalReminder.member_id == never.id)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(RenewalReminder.member_id == paying.id)) == 5


@pytest.mark.parametrize("type_code", ["honorary", "lifetime"])
def test_never_auto_renewed_even_with_a_saved_card(app, type_code):
    never = _member_of(type_code, date(2026, 1, 1), "never@example.org", ends_on=date(2026, 12, 31))
    never.auto_renew, never.saved_payment_method_id = True, "pm_card_visa"
    paying = _member_of("professional", date(2026, 1, 1), "paying@example.org")
    paying.auto_renew, paying.saved_payment_method_id = True, "pm_card_visa"
    db.session.flush()
    assert renewals.count_auto_renew_candidates(date(2026, 12, 20), within_days=14) == 1


@pytest.mark.parametrize("type_code", ["honorary", "lifetime"])
def test_no_renew_now_and_no_automatic_renewal_on_the_dashboard(app, client, type_code):
    day = today()
    never = _member_of(type_code, day - timedelta(days=300), "never@example.org")
    db.session.commit()
    options = payment_services.renewal_options(never, day)
    assert not options.can_renew and not options.can_join
    client.login("never@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/membership/renew"' not in page and "Automatic renewal" not in page
    assert "never" in options.message
    from chapter.core.errors import DomainError

    with pytest.raises(DomainError):
        payment_services.start_renewal(never, factories.membership_type("professional"), actor=None, day=day)


def test_honorary_chapter_renews_online_at_the_association_portion_with_a_chapter_share_of_0(app, client):
    day = today()
    member = _member_of("honorary_chapter", day - timedelta(days=330), "hc@example.org")
    db.session.commit()
    honorary_chapter = factories.membership_type("honorary_chapter")
    assert honorary_chapter in payment_services.renewable_types(member)
    order = payment_services.start_renewal(member, honorary_chapter, actor=None, day=day)
    assert (order.total_cents, order.chapter_share_cents, order.association_share_cents) == (17500, 0, 17500)
    db.session.rollback()
    client.login("hc@example.org")
    page = client.get("/membership/renew").get_data(as_text=True)
    assert "Honorary Chapter" in page and "$175.00" in page
    # It is still not for sale to anyone joining.
    assert honorary_chapter not in payment_services.purchasable_types()
