"""The renewal window opens exactly 90 days before the end date: on day 90 a member may renew, on day 91
not yet. Checked in the service and on the page the member sees, with the clock pinned."""
from datetime import date, timedelta

import pytest

from chapter.members import services as member_services
from chapter.members.models import TermSource
from chapter.payments import services as payment_services
from chapter.core.errors import DomainError
from chapter.extensions import db
from tests import factories

# A day whose 90th and 91st days back cross a month end (31 Mar - 90 days = 31 Dec, - 91 = 30 Dec).
ENDS_ON = date(2026, 3, 31)


def _member_ending_on(ends_on: date):
    member = factories.member(home=factories.chapter(40), status="pending", email="ada@example.org", with_user=True)
    member_services.grant_term(member, factories.membership_type(), starts_on=date(2025, 4, 1), ends_on=ends_on,
                               source=TermSource.PAYMENT, actor=None)
    db.session.commit()
    return member


def test_renewal_opens_on_the_90th_day_before_the_end_and_not_on_the_91st(app, clock):
    clock("2025-12-01")
    member = _member_ending_on(ENDS_ON)
    day_90, day_91 = ENDS_ON - timedelta(days=90), ENDS_ON - timedelta(days=91)
    assert (day_90, day_91) == (date(2025, 12, 31), date(2025, 12, 30))

    on_90 = payment_services.renewal_options(member, day_90)
    on_91 = payment_services.renewal_options(member, day_91)

    assert on_90.can_renew and on_90.renew_from == date(2026, 4, 1)
    assert not on_91.can_renew and on_91.message == "Renewal opens on 31 Dec 2025."
    # Well inside the window (day 50) renewal is open too; a window of 50 days would refuse day 90 above.
    assert payment_services.renewal_options(member, ENDS_ON - timedelta(days=50)).can_renew


def test_a_renewal_order_cannot_be_started_on_the_91st_day_before_the_end(app, clock):
    clock("2025-12-01")
    member = _member_ending_on(ENDS_ON)
    with pytest.raises(DomainError, match="Renewal opens on 31 Dec 2025"):
        payment_services.start_renewal(member, factories.membership_type(), actor=None, day=ENDS_ON - timedelta(days=91))
    order = payment_services.start_renewal(member, factories.membership_type(), actor=None, day=ENDS_ON - timedelta(days=90))
    assert (order.covers_from, order.covers_until) == (date(2026, 4, 1), date(2027, 3, 31))


@pytest.mark.parametrize("today_, opens", [("2025-12-30", False), ("2025-12-31", True)])
def test_the_renew_page_follows_the_window_to_the_day(app, client, clock, today_, opens):
    clock(today_)
    _member_ending_on(ENDS_ON)
    client.login("ada@example.org")

    page = client.get("/membership/renew", follow_redirects=True).get_data(as_text=True)
    dashboard = client.get("/dashboard").get_data(as_text=True)

    if opens:
        assert "Renew your membership" in page and "continues your membership from 01 Apr 2026" in page
        assert 'href="/membership/renew"' in dashboard
    else:
        assert "Renewal opens on 31 Dec 2025." in page and "Renew your membership" not in page
        assert 'href="/membership/renew"' not in dashboard
