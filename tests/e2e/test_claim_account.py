"""Browser journey: an officer imports a member and invites them; the member receives the mail, sets a
password from its link, and sees their own record and history (no second member, nothing lost)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from chapter.extensions import db
from chapter.members.models import Member
from chapter.members.services import add_months
from chapter.core.models import today
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.e2e.test_journeys import log_in

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def test_an_imported_member_claims_their_account_from_the_mail(live_server, app, smtp_server, page, tmp_path):
    app.config["PUBLIC_BASE_URL"] = live_server  # links in mail lead to the server the browser uses
    home = factories.chapter(1, name="Schuylkill Valley")
    factories.officer(home, "vp_membership", holder=factories.user("vp@example.org", name="Val VP"))
    factories.reference_data()
    db.session.commit()
    until = add_months(today(), 6)
    file = tmp_path / "members.csv"
    file.write_text("First name,Last name,E-mail,Membership type,Member since,Member until\n"
                    f"Ada,Lovelace,ada@example.org,Professional,{add_months(until, -12)},{until}\n", encoding="utf-8")

    # The officer imports Ada, sees she has no account, and invites her.
    log_in(page, live_server, "vp@example.org")
    page.goto(f"{live_server}/chapters/1/import")
    page.get_by_label("CSV file").set_input_files(str(file))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("button", name="Import 1 member").click()
    expect(page.get_by_role("alert")).to_contain_text("Imported: 1 new member")
    row = page.get_by_role("row").filter(has_text="Lovelace, Ada")
    expect(row.get_by_test_id("account")).to_contain_text("No")
    row.get_by_role("button", name="Invite Ada Lovelace to claim their account").click()
    expect(page.get_by_role("alert")).to_contain_text("1 invitation sent")
    page.get_by_role("button", name="Log out").click()

    # Ada receives the mail and follows its link.
    run_jobs()  # the outbox's delivery job, as the worker would run it
    mail = [m for m in smtp_server if m["To"] == "ada@example.org"]
    assert len(mail) == 1, [m["To"] for m in smtp_server]
    body = text_of(mail[0])
    link = re.search(re.escape(live_server) + r"/claim/\S+", body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    page.get_by_label("Choose a password").fill("analytical-engine-1843")
    page.get_by_label("Repeat the password").fill("analytical-engine-1843")
    page.get_by_role("button", name="Set my password").click()

    # She is logged in and sees her own record: number, status, and the term from the import.
    page.wait_for_url(f"{live_server}/dashboard*")
    expect(page.get_by_role("alert")).to_contain_text("Your password is set")
    member_number = db.session.scalar(sa.select(Member.member_number).where(Member.email == "ada@example.org"))
    expect(page.get_by_test_id("member-number")).to_have_text(member_number)
    expect(page.get_by_test_id("membership-status")).to_have_text("Active")
    history = page.get_by_role("table").filter(has_text="Professional")
    expect(history).to_contain_text("Import")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 1

    # The password works from the log-in form too.
    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "ada@example.org", "analytical-engine-1843")
    expect(page.get_by_test_id("member-number")).to_have_text(member_number)
