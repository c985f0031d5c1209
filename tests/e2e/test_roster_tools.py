"""Browser journeys with the roster tools: a ready-made list exported as CSV; an import corrected and confirmed."""
from __future__ import annotations

import csv
import re
from datetime import timedelta

import pytest

from chapter.core.models import today
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import TermSource
from tests import factories
from tests.e2e.test_journeys import log_in, roster_rows

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def member_until(home, first: str, last: str, days_from_today: int):
    made = factories.member(home=home, status="pending", first_name=first, last_name=last,
                            email=f"{first.lower()}.{last.lower()}@example.org")
    ends = today() + timedelta(days=days_from_today)
    member_services.grant_term(made, factories.membership_type(), starts_on=ends - timedelta(days=364), ends_on=ends,
                               source=TermSource.PAYMENT, actor=None)
    return made


def test_president_exports_the_members_expiring_in_30_days(live_server, page, tmp_path):
    home = factories.chapter(1, name="Schuylkill Valley")
    member_until(home, "Dana", "Zimmerman", 10)
    member_until(home, "Chris", "Okafor", 200)
    member_until(home, "Lee", "Nguyen", -100)
    factories.officer(home, "president", holder=factories.user("president@example.org", name="Pat President"))
    db.session.commit()

    log_in(page, live_server, "president@example.org")
    page.goto(f"{live_server}/chapters/1/roster")
    expect(roster_rows(page)).to_have_count(3)
    page.get_by_role("navigation", name="Ready-made lists").get_by_role("link", name="Expiring in 30 days").click()
    page.wait_for_url(re.compile(r"[?&]view=expiring-30"))
    expect(roster_rows(page)).to_have_count(1)
    expect(page.get_by_role("link", name="Zimmerman, Dana")).to_be_visible()
    expect(page.get_by_label("List", exact=True)).to_have_value("expiring-30")

    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile(r"^Export CSV")).click()
    download = download_info.value
    assert re.fullmatch(r"roster-1-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(saved.read_text(encoding="utf-8-sig").splitlines()))
    assert [(row["Last name"], row["Status"]) for row in rows] == [("Zimmerman", "Active")]

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log of Schuylkill Valley #1")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Roster exported")).to_contain_text("Exported 1 member")


def test_vp_membership_fixes_a_bad_line_and_imports(live_server, page, tmp_path):
    home = factories.chapter(1, name="Schuylkill Valley")
    factories.member(home=home, status="active", first_name="Ada", last_name="Lovelace", email="ada@example.org")
    factories.officer(home, "vp_membership", holder=factories.user("vp@example.org", name="Val VP"))
    factories.reference_data()
    db.session.commit()
    file = tmp_path / "new-members.csv"
    file.write_text("First name;Last name;E-mail;City\n"
                    "Grace;Hopper;grace@example.org;Arlington\n"
                    "Alan;Turing;alan(at)example.org;Wilmslow\n"
                    "Ada;Lovelace;ada@example.org;Marylebone\n", encoding="utf-8")

    log_in(page, live_server, "vp@example.org")
    page.goto(f"{live_server}/chapters/1/roster")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(str(file))
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", name="Preview of new-members.csv")).to_be_visible()
    expect(page.get_by_test_id("import-invalid")).to_have_text("1")
    invalid = page.get_by_role("table", name="Rows that cannot be imported")
    expect(invalid.get_by_role("row").filter(has_text="Turing")).to_contain_text("3")
    expect(invalid).to_contain_text("“alan(at)example.org” is not an e-mail address.")
    expect(page.get_by_role("button", name=re.compile(r"^Import"))).to_have_count(0)

    file.write_text(file.read_text(encoding="utf-8").replace("alan(at)example.org", "alan@example.org"), encoding="utf-8")
    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("CSV file").set_input_files(str(file))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_test_id("import-new")).to_have_text("2")
    expect(page.get_by_test_id("import-matched")).to_have_text("1")
    expect(page.get_by_test_id("import-invalid")).to_have_text("0")
    page.get_by_role("button", name="Import 3 members").click()

    expect(page.get_by_role("alert")).to_contain_text("Imported: 2 new members, 1 updated, 0 unchanged.")
    expect(page.get_by_role("heading", name="Roster of Schuylkill Valley #1")).to_be_visible()
    expect(roster_rows(page)).to_have_count(3)
    page.get_by_role("link", name="Turing, Alan").click()
    expect(page.get_by_text("Wilmslow")).to_be_visible()
