"""Browser journey: a president filters the roster to expiring-in-30-days, writes a reminder, previews it,
sends it, watches the counts come in, and finds it in the sent log and counted in the chapter's minimum standards."""
from __future__ import annotations

import re

import pytest

from chapter.extensions import db
from tests import factories
from tests.communications.helpers import member_until
from tests.conftest import run_jobs, text_of
from tests.e2e.test_journeys import log_in, roster_rows

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def test_president_reminds_the_members_expiring_in_30_days(live_server, app, smtp_server, page):
    home = factories.chapter(1, name="Schuylkill Valley")
    member_until(home, "Dana", "Zimmerman", 10)
    member_until(home, "Chris", "Okafor", 200)
    factories.officer(home, "president", holder=factories.user("president@example.org", name="Pat President"))
    db.session.commit()

    log_in(page, live_server, "president@example.org")
    page.goto(f"{live_server}/chapters/1/roster")
    page.get_by_role("navigation", name="Ready-made lists").get_by_role("link", name="Expiring in 30 days").click()
    page.wait_for_url(re.compile(r"[?&]view=expiring-30"))
    expect(roster_rows(page)).to_have_count(1)
    page.get_by_role("link", name=re.compile(r"^E-mail these members")).click()

    expect(page.get_by_label("To")).to_have_value("list")
    expect(page.get_by_text("1 member on this list today.")).to_be_visible()
    page.get_by_label("Subject").fill("{{first_name}}, your membership ends soon")
    page.get_by_label("Message").fill("Hello {{first_name}},\n\nYour membership ends on **{{member_until}}**. "
                                      "[Renew now]({{renew_link}})")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("As Dana (dana.zimmerman@example.org) will see it.")
    expect(preview).to_contain_text("Dana, your membership ends soon")
    expect(preview.get_by_role("link", name="Renew now")).to_have_attribute("href", re.compile(r"/membership/renew$"))
    expect(page.get_by_label("Subject")).to_have_value("{{first_name}}, your membership ends soon")  # kept as typed

    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Your message to Roster: Expiring in 30 days is on its way.")
    expect(page.locator("#message-audience")).to_have_text("Roster: Expiring in 30 days")
    run_jobs()  # the worker writes the mail, then delivers it
    run_jobs()
    expect(page.locator('[data-count="sent"]')).to_have_text("1", timeout=15_000)  # refreshed by message-progress.js
    mail = [m for m in smtp_server if m["To"] == "dana.zimmerman@example.org"]
    assert len(mail) == 1 and "Your membership ends on" in text_of(mail[0])

    page.get_by_role("link", name="Messages of Schuylkill Valley #1").click()
    row = page.get_by_role("row").filter(has_text="{{first_name}}, your membership ends soon")
    expect(row).to_contain_text("Roster: Expiring in 30 days")
    expect(row.get_by_role("cell").nth(5)).to_have_text("1")   # sent (after: on the list, queued)

    # The message counts towards the chapter's minimum standards (8 member communications a year).
    page.goto(f"{live_server}/chapters/1/standards")
    standard = page.get_by_role("region", name="At least 8 member communications")
    expect(standard).to_contain_text("Not met yet: 1 of 8")
    expect(standard.get_by_role("link", name="{{first_name}}, your membership ends soon")).to_be_visible()
    expect(standard).to_contain_text("(1)")  # one recipient mailed
