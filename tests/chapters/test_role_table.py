"""The role table: printed from the permission checks and the position data; README, pages and code agree."""
from __future__ import annotations

import re

import sqlalchemy as sa

from chapter.chapters.models import Chapter, MemberNote, OfficerPosition
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member
from chapter.payments.models import Payment
from chapter.seed import demo
from config import BASE_DIR


def _readme_table() -> str:
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- roles-table:start -->\n(.*?)<!-- roles-table:end -->", readme, re.S)
    assert found, "README.md lost its roles-table markers"
    return found.group(1)


def test_readme_role_table_is_what_the_roles_command_prints(app):
    result = app.test_cli_runner().invoke(args=["roles", "--reference", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == _readme_table(), "regenerate it: flask --app wsgi roles --reference --markdown"


def test_roles_command_follows_the_positions_staff_edited(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["roles"]).exit_code == 1  # no positions yet: says to seed them
    runner.invoke(args=["seed-reference"])
    webmaster = db.session.scalar(sa.select(OfficerPosition).where(OfficerPosition.code == "webmaster"))
    webmaster.can_view_roster = True
    db.session.commit()
    printed = runner.invoke(args=["roles", "--markdown"]).output
    assert "| Webmaster (officer) | yes | yes | — |" in printed
    assert "| Webmaster (officer) | — |" in _readme_table()


def _chapter_one() -> Chapter:
    return db.session.scalar(sa.select(Chapter).where(Chapter.number == 1))


def _member_with_note(chapter: Chapter) -> Member:
    member = db.session.scalar(sa.select(Member).where(Member.home_chapter_id == chapter.id,
                                                       Member.email.like("%.%.%@example.org")).order_by(Member.id))
    db.session.add(MemberNote(member_id=member.id, chapter_id=chapter.id, noted_on=today(),
                              body="Prefers e-mail about the spring dinner."))
    db.session.commit()
    return member


def test_president_sees_the_chapters_treasury_page_and_may_refund_its_payments(app, client):
    demo.seed_demo(members=120, chapters=9)
    db.session.commit()
    chapter = _chapter_one()
    payment = db.session.scalar(sa.select(Payment).where(Payment.chapter_id == chapter.id).order_by(Payment.id))
    assert payment is not None
    client.login("president@example.org", demo.DEMO_PASSWORD)
    treasury = client.get(f"/treasury/chapters/{chapter.number}")
    assert treasury.status_code == 200 and chapter.name in treasury.get_data(as_text=True)
    refund_page = client.get(f"/payments/{payment.id}/refund")
    assert refund_page.status_code == 200 and "Refund" in refund_page.get_data(as_text=True)


def test_treasurer_sees_the_roster_and_notes(app, client):
    demo.seed_demo(members=120, chapters=9)
    db.session.commit()
    chapter = _chapter_one()
    member = _member_with_note(chapter)
    client.login("treasurer@example.org", demo.DEMO_PASSWORD)
    assert client.get(f"/chapters/{chapter.number}/roster").status_code == 200
    record = client.get(f"/chapters/{chapter.number}/members/{member.member_number}").get_data(as_text=True)
    assert "Prefers e-mail about the spring dinner." in record


def test_district_manager_reads_notes_and_the_panel_says_so(app, client):
    demo.seed_demo(members=120, chapters=9)
    db.session.commit()
    chapter = _chapter_one()
    member = _member_with_note(chapter)
    client.login("district@example.org", demo.DEMO_PASSWORD)
    page = client.get(f"/chapters/{chapter.number}/members/{member.member_number}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Prefers e-mail about the spring dinner." in text
    assert "by its district manager" in text and "officers only" not in text and " only.</p>" not in text
    assert "Add note" not in text  # reading is not writing: no note form for the district manager
