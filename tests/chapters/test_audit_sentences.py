"""The audit log reads as sentences with names (not ids, codes or e-mails) at the chapter's local time."""
from datetime import datetime, timedelta

import sqlalchemy as sa

from chapter.core import audit
from chapter.core.audit import AuditEntry
from chapter.extensions import db
from tests import factories


def test_the_audit_log_says_what_changed_in_words_with_names_and_local_time(app, client):
    home = factories.chapter(40, name="Schuylkill Valley", timezone="America/Chicago")
    president = factories.officer(home, "president", holder=factories.user("pat@example.org", name="Pat President"))
    newcomer = factories.user("nina@example.org", name="Nina Newcomer")
    ada = factories.member(home=home, first_name="Ada", last_name="Lovelace")
    student, professional = factories.membership_type("student"), factories.membership_type("professional")
    audit.record("member.updated", actor=president, chapter_id=home.id, member_id=ada.id, summary="Type changed",
                 before={"membership_type": student.code, "paid_through": "2026-11-30"},
                 after={"membership_type": professional.code, "paid_through": "2027-11-30"})
    audit.record("officer.appointed", actor=president, chapter_id=home.id, summary="Appointed",
                 after={"officer": newcomer.email, "position": "treasurer", "starts_on": "2026-12-01"})
    audit.record("payment.refunded", actor=president, chapter_id=home.id, summary="Refund",
                 before={"refunded_cents": 0}, after={"refunded_cents": 5000})
    db.session.execute(sa.update(AuditEntry).values(occurred_at=datetime(2026, 12, 1, 15, 5)))
    db.session.commit()

    client.login(president.email)
    page = client.get("/chapters/40/audit").get_data(as_text=True)
    assert "Type changed from Student to Professional." in page
    assert "Member until changed from 30 Nov 2026 to 30 Nov 2027." in page
    assert "Officer: Nina Newcomer." in page and "Position: Treasurer / VP Finance." in page
    assert "Refunded changed from $0.00 to $50.00." in page
    assert "1 Dec 2026, 09:05 CST" in page and "Chicago time" in page  # 15:05 UTC in Chicago
    assert "nina@example.org" not in page.split("<tbody>")[1]
