"""A certification journey in a real browser: a member buys CPIM Part 1 at the member price and sees the ATT;
staff record passes of both parts; the member sees CPIM on the transcript; an anonymous visitor verifies it."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from chapter.certifications.models import MemberCertification
from chapter.core.models import today
from chapter.extensions import db
from tests import factories
from tests.e2e.test_payments import enter_card, log_in
from tests.payments.helpers import CARD_OK

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def record_result(page, member_number: str, exam: str, score: str) -> None:
    page.get_by_label("Member number").fill(member_number)
    page.get_by_label("Exam", exact=True).select_option(exam)
    page.get_by_label("Date taken").fill(today().isoformat())
    page.get_by_label("Scaled score").fill(score)
    page.get_by_role("button", name="Record result").click()
    expect(page.get_by_role("alert")).to_contain_text("Result recorded")


def test_member_buys_part_1_staff_record_both_parts_and_a_visitor_verifies_cpim(live_server, stripe_peer, page):
    factories.reference_data()
    member = factories.member(status="active", email="ada@example.org", with_user=True, first_name="Ada",
                              last_name="Lovelace")
    staff = factories.staff()
    db.session.commit()

    log_in(page, live_server, "ada@example.org")
    page.get_by_role("link", name="Buy an exam").first.click()
    expect(page.get_by_test_id("price-CPIM-P1")).to_contain_text("$120.00")
    page.get_by_role("button", name="Buy CPIM Part 1").click()
    page.wait_for_url(re.compile(r"/pay/\d+$"))
    enter_card(page, CARD_OK)
    page.get_by_role("button", name="Pay $120.00").click()
    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"))
    page.get_by_role("link", name="Transcript", exact=True).click()
    expect(page.get_by_test_id("att-code")).to_contain_text("ATT-")
    expect(page.get_by_text("(member price)")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, staff.email)
    page.goto(f"{live_server}/staff/exams")
    record_result(page, member.member_number, "CPIM-P1", "315")
    record_result(page, member.member_number, "CPIM-P2", "305")
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "ada@example.org")
    page.get_by_role("link", name="Transcript", exact=True).click()
    expect(page.get_by_test_id("certification-CPIM")).to_contain_text("Certified in Planning and Inventory Management")
    db.session.expire_all()
    number = db.session.scalar(sa.select(MemberCertification.certificate_number))
    expect(page.get_by_test_id("certification-CPIM")).to_contain_text(number)
    page.get_by_role("button", name="Log out").click()

    page.get_by_role("link", name="Verify a certification").click()
    page.get_by_label("Certificate number").fill(number)
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("holder")).to_have_text("Ada Lovelace")
    expect(page.get_by_test_id("verified-status")).to_have_text("Current")
