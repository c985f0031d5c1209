"""A chapter's money page: opening balance, each line with the member and what it paid for, remittances as money
sent, a closing balance equal to opening + owed − remitted, and the same lines as CSV."""
import csv
import io
import re
from datetime import timedelta

from chapter.core.models import today
from chapter.extensions import db
from chapter.treasury import services
from chapter.treasury.models import LedgerKind
from tests import factories


def _amount(page: str, element_id: str) -> int:
    text = re.search(rf'id="{element_id}">([^<]+)<', page).group(1)
    return int(round(float(text.replace("$", "").replace(",", "")) * 100))


def test_the_chapter_treasurer_sees_opening_owed_sent_and_closing_that_add_up_with_member_names(paid, client):
    home = paid["first"].order.chapter
    staff = paid["staff"]
    treasurer = factories.officer(home, "treasurer")
    start = today().replace(day=1)
    services.add_entry(LedgerKind.CHAPTER_SHARE, amount_cents=7000, currency="USD", booked_on=start - timedelta(days=3),
                       chapter_id=home.id, description="Chapter share")  # last month: the opening balance
    services.record_remittance(home, amount_cents=2500, booked_on=today(), reference="WIRE 77", actor=staff)
    db.session.commit()

    client.login(treasurer.email)
    page = client.get(f"/treasury/chapters/{home.number}?from={start}&to={today()}").get_data(as_text=True)
    opening, owed, sent, closing = (_amount(page, i) for i in ("opening-balance", "share-owed", "remitted",
                                                              "remittance-balance"))
    assert opening == 7000 and sent == 2500
    assert closing == opening + owed - sent
    member = paid["first"].order.member
    assert f"{member.full_name} <span class=\"small text-muted\">({member.member_number})" in page  # who paid
    assert "Membership (join)" in page  # and for what
    assert "Sent to the chapter" in page and "-$25.00" in page  # a remittance is money out, not income

    exported = client.get(f"/treasury/chapters/{home.number}?from={start}&to={today()}&format=csv")
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    sent_rows = [r for r in rows if r["Kind"] == "Sent to the chapter"]
    assert [r["Amount"] for r in sent_rows] == ["-25.00"] and sent_rows[0]["Reference"] == "WIRE 77"
    charges = [r for r in rows if r["Kind"] == "Charge"]
    assert len(charges) == 2 and all(r["Member"] and r["What for"] == "Membership (join)" for r in charges)


def test_a_chapter_treasurer_cannot_export_another_chapters_money(paid, client):
    other = factories.chapter(31, name="Pittsburgh")
    treasurer = factories.officer(other, "treasurer")
    db.session.commit()
    client.login(treasurer.email)
    assert client.get(f"/treasury/chapters/{paid['first'].order.chapter.number}?format=csv").status_code in (403, 404)
