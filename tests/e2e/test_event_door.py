"""The events journey in a real browser: a VP Programs creates and publishes a meeting, a member registers and
pays with 4242, the officer checks them in from a phone through the ticket's link, attendance is made final
and the member's transcript shows the points."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from chapter.events import tickets
from chapter.events.models import Registration
from chapter.extensions import db
from tests import factories
from tests.e2e.test_payments import enter_card, log_in
from tests.payments.helpers import CARD_OK

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect

def assert_fits_a_phone_and_passes_axe(page) -> None:
    """No sideways scrolling at 390 px, and axe-core finds no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url
    serious = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{page.url}: {serious}"


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def test_a_meeting_from_creation_to_points_on_the_transcript(app, live_server, stripe_peer, browser, page, clock):
    app.config["PUBLIC_BASE_URL"] = live_server  # the QR code's link must open this very server
    chapter = factories.chapter(40, name="Schuylkill Valley", timezone="America/New_York")
    vp = factories.officer(chapter, "vp_programs", holder=factories.user("vp@example.org", name="Val Programs"))
    member = factories.member(home=chapter, email="ada@example.org", with_user=True, first_name="Ada",
                              last_name="Lovelace")
    db.session.commit()
    starts = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=1)).replace(hour=18, minute=0)

    log_in(page, live_server, vp.email)
    page.goto(f"{live_server}/chapters/40/events/new")
    page.get_by_label("Title", exact=True).fill("December PDM: demand planning")
    page.get_by_label("Starts", exact=True).fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends", exact=True).fill((starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Instructional hours").fill("2.0")
    page.get_by_label("Venue", exact=True).fill("Hilton Garden Inn, Ballroom B")
    page.get_by_label("Member price", exact=True).fill("25.00")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_contain_text("ublished")
    event_url = page.url
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, member.email)
    page.goto(event_url)
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r"/pay/\d+$"))
    enter_card(page, CARD_OK)
    page.get_by_role("button", name="Pay $25.00").click()
    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"))
    page.goto(f"{live_server}/my/events")
    page.get_by_role("link", name=re.compile("Ticket \\(QR code\\)")).click()
    registration = db.session.scalar(sa.select(Registration).where(Registration.member_id == member.id))
    link = tickets.check_in_url(registration)
    qr = page.get_by_role("img", name=re.compile("QR code of the ticket"))
    assert qr.get_attribute("src") == tickets.qr_svg_data_uri(link)  # the code drawn is exactly the check-in link
    assert link.startswith(f"{live_server}/t/")

    phone = browser.new_context(**PHONE)
    try:
        door = phone.new_page()
        door.goto(link)  # what the officer's camera opens
        door.get_by_role("link", name="log in").click()
        door.get_by_label("E-mail address").fill(vp.email)
        door.get_by_label("Password", exact=True).fill(factories.DEFAULT_PASSWORD)
        door.get_by_role("button", name="Log in").click()
        door.wait_for_url(link)
        expect(door.get_by_test_id("ticket-holder")).to_have_text("Ada Lovelace")
        button = door.get_by_role("button", name="Check in")
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300  # a big tap target on a 390-pixel-wide screen
        button.tap()
        expect(door.get_by_role("alert")).to_contain_text("Ada Lovelace checked in.")
        expect(door.get_by_role("button", name="Check in")).to_have_count(0)
        assert_fits_a_phone_and_passes_axe(door)
        door.goto(f"{event_url}/door")
        expect(door.get_by_test_id("door-count")).to_have_text("1")
        assert_fits_a_phone_and_passes_axe(door)

        clock((starts + timedelta(hours=3)).astimezone(ZoneInfo("UTC")))  # the evening of the meeting, after it
        door.goto(f"{event_url}/registrations")
        door.get_by_role("button", name="Make attendance final and credit points").tap()
        expect(door.get_by_role("alert")).to_contain_text("1 credited with points")
        assert_fits_a_phone_and_passes_axe(door)
    finally:
        phone.close()

    page.get_by_role("link", name="Transcript", exact=True).click()
    row = page.get_by_role("row", name=re.compile("Attended December PDM"))
    expect(row).to_contain_text("2")
    expect(row.get_by_test_id("point-status")).to_have_text("Approved")
