"""Browser journey: a president registers a webhook endpoint, copies its secret, sees a delivery in the log."""
from __future__ import annotations

import json
import re

import pytest

from chapter.core import domain_events
from chapter.extensions import db
from tests import factories
from tests.conftest import run_jobs
from tests.e2e.test_journeys import log_in
from tests.outgoing.helpers import Receiver

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def test_president_registers_an_endpoint_and_follows_its_deliveries(live_server, page):
    receiver = Receiver()
    try:
        home = factories.chapter(1, name="Schuylkill Valley")
        factories.officer(home, "president", holder=factories.user("president@example.org", name="Pat President"))
        db.session.commit()

        log_in(page, live_server, "president@example.org")
        page.goto(f"{live_server}/chapters/1/roster")
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("heading", name=re.compile("Webhooks of Schuylkill Valley"))).to_be_visible()
        page.get_by_label("URL", exact=True).fill(receiver.url)
        page.get_by_label("A member joined (first dues paid)").check()
        page.get_by_label("Description", exact=True).fill("Chapter web site")
        page.get_by_role("button", name="Register endpoint").click()
        expect(page.get_by_text("it is shown only this once")).to_be_visible()
        secret = page.get_by_label(re.compile("Signing secret for")).input_value()
        assert secret.startswith("whsec_")

        domain_events.publish("member.joined", {"member_id": 42, "chapter_id": home.id, "chapter_number": 1})
        db.session.commit()
        run_jobs()
        assert json.loads(receiver.received[0].body)["data"]["member_id"] == 42

        page.get_by_role("link", name="Go to the endpoint").click()
        row = page.get_by_role("row").filter(has_text="member.joined")
        expect(row).to_contain_text("Delivered")
        expect(row.get_by_role("button", name=re.compile("^Redeliver"))).to_be_visible()
        expect(page.get_by_text(secret)).to_have_count(0)
    finally:
        receiver.stop()
