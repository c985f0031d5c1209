"""Forms and the menu in a real browser: the month-close field, the change-type page with nothing to choose,
the error summary after a failed submit, and the menu that marks the current page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import today
from chapter.extensions import db
from chapter.treasury.models import ClosedPeriod
from tests import factories
from tests.e2e.test_journeys import log_in, main_nav

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def test_staff_close_last_month_with_the_month_field(live_server, page):
    staff = factories.staff()
    db.session.commit()
    last_month = today().replace(day=1) - timedelta(days=1)

    log_in(page, live_server, staff.email)
    page.goto(f"{live_server}/treasury/")
    month = page.get_by_label("Month", exact=True)
    assert month.get_attribute("type") == "month"
    month.fill(f"{last_month:%Y-%m}")
    page.get_by_role("button", name="Close the month").click()
    page.get_by_role("button", name=f"Yes, close {last_month:%B %Y}").click()

    expect(page.get_by_role("alert")).to_contain_text(f"{last_month:%B %Y} closed.")
    expect(page.get_by_text(f"Closed: {last_month:%B %Y}")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalar(sa.select(ClosedPeriod.month)) == last_month.replace(day=1)


def test_a_professional_member_is_told_why_no_type_can_be_chosen(live_server, page):
    factories.member(home=factories.chapter(40, name="Schuylkill Valley"), status="active", email="ada@example.org",
                     first_name="Ada", with_user=True)
    db.session.commit()

    log_in(page, live_server, "ada@example.org")
    page.goto(f"{live_server}/membership/change-type")

    expect(page.get_by_test_id("no-type-change")).to_contain_text(
        "You are a Professional member, and no membership type costs more than yours")
    expect(page.get_by_role("button", name="Continue to payment")).to_have_count(0)
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page.get_by_role("heading", name="Welcome, Ada")).to_be_visible()


def test_a_failed_submit_shows_an_error_summary_that_takes_focus_and_links_to_each_field(live_server, page):
    factories.reference_data()
    db.session.commit()
    page.goto(f"{live_server}/register")
    page.get_by_label("First name").fill("Ada")
    page.get_by_role("button", name="Create my account").click()

    summary = page.get_by_role("alert").filter(has_text="problems")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There are 4 problems")
    for label in ("Last name", "E-mail address", "Password", "Repeat the password"):
        expect(summary.get_by_role("link", name=re.compile(f"^{label}: "))).to_be_visible()
    summary.get_by_role("link", name=re.compile("^E-mail address: ")).click()
    expect(page.get_by_label("E-mail address")).to_be_focused()
    expect(page.get_by_label("First name")).to_have_value("Ada")  # what was typed is kept


def test_the_menu_marks_the_current_page_and_lists_exams(live_server, page):
    factories.member(home=factories.chapter(40, name="Schuylkill Valley"), status="active", email="ada@example.org",
                     first_name="Ada", with_user=True)
    db.session.commit()

    log_in(page, live_server, "ada@example.org")
    expect(main_nav(page).get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    main_nav(page).get_by_role("link", name="Exams").click()
    expect(page.get_by_role("heading", name="Buy an exam")).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="Exams")).to_have_attribute("aria-current", "page")
    expect(main_nav(page).locator("[aria-current=page]")).to_have_count(1)


def test_keyboard_focus_is_visible_on_menu_links(live_server, page):
    page.goto(f"{live_server}/chapters")
    link = main_nav(page).get_by_role("link", name="Verify a certification")
    link.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    outline = link.evaluate("e => { const s = getComputedStyle(e); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert outline[0] == "solid" and outline[1] >= 2


def test_a_keyboard_user_skips_the_roster_filters_to_the_first_member(live_server, page):
    home = factories.chapter(1, name="Schuylkill Valley")
    factories.member(home=home, status="active", first_name="Dana", last_name="Zimmerman")
    factories.officer(home, "president", holder=factories.user("president@example.org", name="Pat President"))
    db.session.commit()

    log_in(page, live_server, "president@example.org")
    page.goto(f"{live_server}/chapters/1/roster")
    skip = page.get_by_role("link", name="Skip the filters to the list of members")
    skip.focus()
    expect(skip).to_be_visible()  # shown when it has the focus
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "roster-list"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused.startswith("Name"), focused  # the first column header, past every filter
