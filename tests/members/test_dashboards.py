"""Dashboards: the renewal notice from 60 days before the end, figures for staff and district managers,
and the prices anyone can read."""
from datetime import timedelta

import sqlalchemy as sa

from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member
from tests import factories


def _member_ending_in(days: int, **fields):
    home = factories.chapter(40, name="Schuylkill Valley")
    member = factories.member(home=home, status="active", email="ada@example.org", first_name="Ada", with_user=True)
    member.paid_through = today() + timedelta(days=days)
    member.grace_ends_on = member.paid_through + timedelta(days=30)
    for name, value in fields.items():
        setattr(member, name, value)
    db.session.commit()
    return member


def test_the_dashboard_warns_from_60_days_before_the_end_with_a_renew_button(app, client):
    member = _member_ending_in(45)
    client.login("ada@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="renewal-notice"' in page
    assert "in 45 days" in page and 'href="/membership/renew">Renew</a>' in page
    member.paid_through = today() + timedelta(days=61)
    db.session.commit()
    assert 'data-testid="renewal-notice"' not in client.get("/dashboard").get_data(as_text=True)


def test_with_auto_renew_the_dashboard_says_which_card_is_charged_how_much_and_when(app, client):
    _member_ending_in(30, auto_renew=True, saved_payment_method_id="pm_card_visa", saved_card_brand="visa",
                      saved_card_last4="4242")
    client.login("ada@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    charge_day = today() + timedelta(days=30 - 14)
    assert (f"Automatic renewal will charge $210.00\n        to your Visa card ending in 4242\n        "
            f"on {charge_day.day} {charge_day:%b %Y}") in page


def test_with_auto_renew_turned_on_late_the_dashboard_names_the_day_7_days_after_the_notice(app, client):
    _member_ending_in(19, auto_renew=True, saved_payment_method_id="pm_card_visa", saved_card_brand="visa",
                      saved_card_last4="4242")  # the default charge day is in 5 days: too soon to be told
    client.login("ada@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    charge_day = today() + timedelta(days=7)
    assert f"on {charge_day.day} {charge_day:%b %Y}" in page


def test_staff_see_figures_and_shortcuts_instead_of_a_missing_member_record(app, client):
    home = factories.chapter(40, name="Schuylkill Valley")
    for status in ("active", "active", "grace", "lapsed"):
        factories.member(home=home, status=status)
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "not linked to a member record" not in page
    assert 'data-testid="total-active">2<' in page and 'data-testid="total-grace">1<' in page
    assert 'data-testid="total-lapsed">1<' in page
    assert 'href="/admin/members">Find a member</a>' in page


def test_a_district_manager_sees_their_chapters_figures_and_not_another_districts(app, client):
    mine = factories.chapter(40, name="Schuylkill Valley", district_code="MA")
    other = factories.chapter(31, name="Pittsburgh", district_code="GL")
    factories.member(home=mine, status="active")
    factories.member(home=other, status="active")
    manager = factories.district_manager(mine.district)
    db.session.commit()
    client.login(manager.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Schuylkill Valley #40" in page and "Pittsburgh" not in page
    assert 'data-testid="total-active">1<' in page


def test_visitors_see_membership_and_exam_prices_without_logging_in(app, client):
    factories.reference_data()
    db.session.commit()
    page = client.get("/prices")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="price-professional">$210.00<' in text
    assert "Member price" in text and "Non-member price" in text
    assert "data-testid=\"member-price-" in text and "data-testid=\"non-member-price-" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0
