"""User journeys in a real browser: log in, read the dashboard, work a roster, register, use a phone."""
from __future__ import annotations

import re

import pytest

from chapter.extensions import db
from tests import factories
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def log_in(page, base_url: str, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the form, as a person would, and wait for the dashboard."""
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard*")


def main_nav(page):
    return page.get_by_role("navigation", name="Main")


def roster_rows(page):
    """The body rows of the roster table (the header row excluded)."""
    return page.get_by_role("table").locator("tbody tr")


def test_member_logs_in_and_sees_their_dashboard(live_server, page, tmp_path):
    home = factories.chapter(1, name="Schuylkill Valley")
    morgan = factories.member(home=home, status="active", first_name="Morgan", last_name="Reyes",
                              email="morgan@example.org", with_user=True)
    member_number = morgan.member_number
    db.session.commit()

    log_in(page, live_server, "morgan@example.org")

    expect(page.get_by_role("heading", name="Welcome, Morgan")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Welcome back")
    expect(page.get_by_test_id("membership-status")).to_have_text("Active")
    expect(page.get_by_test_id("member-number")).to_have_text(member_number)
    expect(page.get_by_test_id("home-chapter")).to_have_text("Schuylkill Valley #1")
    expect(main_nav(page).get_by_role("link", name="Rosters")).to_have_count(0)  # not an officer
    page.screenshot(path=tmp_path / "e2e-dashboard.png", full_page=True)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert")).to_contain_text("You are logged out.")
    page.goto(f"{live_server}/dashboard")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_president_searches_and_filters_their_chapters_roster(live_server, page, tmp_path):
    home = factories.chapter(1, name="Schuylkill Valley")
    elsewhere = factories.chapter(2, name="Lehigh Valley")
    factories.member(home=home, status="active", first_name="Dana", last_name="Zimmerman")
    factories.member(home=home, status="lapsed", first_name="Chris", last_name="Okafor")
    factories.member(home=home, status="grace", first_name="Lee", last_name="Nguyen")
    factories.member(home=elsewhere, status="active", first_name="Sam", last_name="Quinn")
    factories.officer(home, "president", holder=factories.user("president@example.org", name="Pat President"))
    db.session.commit()

    log_in(page, live_server, "president@example.org")
    main_nav(page).get_by_role("link", name="Rosters").click()
    page.get_by_role("link", name=re.compile(r"Schuylkill Valley #1\b")).click()

    expect(page.get_by_role("heading", name="Roster of Schuylkill Valley #1")).to_be_visible()
    expect(roster_rows(page)).to_have_count(3)
    for name in ("Zimmerman, Dana", "Okafor, Chris", "Nguyen, Lee"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("link", name="Quinn, Sam")).to_have_count(0)  # another chapter's member
    page.screenshot(path=tmp_path / "e2e-roster.png", full_page=True)

    page.get_by_label("Search", exact=True).fill("Zimmerman")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"[?&]q=Zimmerman"))
    expect(roster_rows(page)).to_have_count(1)
    expect(page.get_by_role("link", name="Zimmerman, Dana")).to_be_visible()
    expect(page.get_by_label("Search", exact=True)).to_have_value("Zimmerman")

    page.get_by_label("Search", exact=True).fill("")
    page.get_by_label("Status", exact=True).select_option(label="Lapsed")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"[?&]status=lapsed"))
    expect(roster_rows(page)).to_have_count(1)
    expect(page.get_by_role("link", name="Okafor, Chris")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Okafor")).to_contain_text("Lapsed")
    expect(page.get_by_label("Status", exact=True)).to_have_value("lapsed")


def test_president_cannot_open_another_chapters_roster(live_server, page):
    mine = factories.chapter(1, name="Schuylkill Valley")
    theirs = factories.chapter(2, name="Lehigh Valley")
    factories.member(home=theirs, status="active", first_name="Sam", last_name="Quinn")
    factories.officer(mine, "president", holder=factories.user("president@example.org", name="Pat President"))
    db.session.commit()

    log_in(page, live_server, "president@example.org")
    response = page.goto(f"{live_server}/chapters/{theirs.number}/roster")

    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Quinn")).to_have_count(0)


def test_registration_shows_errors_next_to_fields_then_succeeds(live_server, page):
    factories.chapter(1, name="Schuylkill Valley")
    db.session.commit()

    page.goto(f"{live_server}/register")
    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill("Castillo")
    page.get_by_label("E-mail address").fill("robin@example.org")
    page.get_by_label("Home chapter").select_option(label="Schuylkill Valley #1")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat the password").fill("shorter")
    page.get_by_role("button", name="Create my account").click()

    confirm = page.get_by_label("Repeat the password")
    expect(confirm).to_have_attribute("aria-invalid", "true")
    expect(confirm.locator("xpath=..")).to_contain_text("The passwords do not match.")
    expect(page.get_by_label("First name")).to_have_value("Robin")
    expect(page.get_by_label("E-mail address")).to_have_value("robin@example.org")
    expect(page.get_by_label("Home chapter")).to_have_value(re.compile(r"^[1-9]\d*$"))

    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat the password").fill("short")
    page.get_by_role("button", name="Create my account").click()

    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password.locator("xpath=..")).to_contain_text("Use at least")
    expect(page.get_by_label("First name")).to_have_value("Robin")

    password.fill("river-stone-77")
    page.get_by_label("Repeat the password").fill("river-stone-77")
    page.get_by_role("button", name="Create my account").click()

    page.wait_for_url(f"{live_server}/dashboard*")
    expect(page.get_by_role("heading", name="Welcome, Robin")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Your member number is")
    expect(page.get_by_test_id("membership-status")).to_have_text("Pending")
    expect(page.get_by_test_id("home-chapter")).to_have_text("Schuylkill Valley #1")


@pytest.fixture
def phone_page(browser):
    """A page the size of a phone screen (390×844, touch)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_dashboard_on_a_phone_has_a_menu_and_no_sideways_scrolling(live_server, phone_page):
    page = phone_page
    home = factories.chapter(1, name="Schuylkill Valley")
    factories.member(home=home, status="grace", first_name="Morgan", email="morgan@example.org", with_user=True)
    db.session.commit()

    log_in(page, live_server, "morgan@example.org")

    menu = page.get_by_role("button", name="Menu")
    dashboard_link = main_nav(page).get_by_role("link", name="Dashboard")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(dashboard_link).to_be_hidden()

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(dashboard_link).to_be_visible()
    expect(main_nav(page).get_by_role("button", name="Log out")).to_be_visible()

    expect(page.get_by_test_id("membership-status")).to_have_text("In grace")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390 + 1, f"the dashboard scrolls sideways on a phone ({scroll_width}px wide)"
