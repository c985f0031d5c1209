"""An exported roster imports back unchanged, for every chapter of the demo data (corporate seats included)."""
from __future__ import annotations

import sqlalchemy as sa

from chapter.chapters import exports, imports
from chapter.chapters.models import Chapter
from chapter.chapters.services import RosterQuery, roster_count
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member, MembershipKind, MembershipTerm, MembershipType
from chapter.seed import demo

COMPARED = [column for column in Member.__table__.columns if column.name != "updated_at"]


def _snapshot() -> list[tuple]:
    db.session.expire_all()
    members = db.session.execute(sa.select(*COMPARED).order_by(Member.id)).all()
    terms = db.session.execute(sa.select(MembershipTerm.member_id, MembershipTerm.membership_type_id,
                                         MembershipTerm.starts_on, MembershipTerm.ends_on).order_by(MembershipTerm.id)).all()
    return [tuple(row) for row in members] + [tuple(row) for row in terms]


def _export(chapter: Chapter) -> bytes:
    return "".join(exports.export_csv(chapter, RosterQuery(), today())).encode("utf-8")


def test_every_demo_chapters_export_imports_back_as_unchanged_rows(app):
    demo.seed_demo(members=400, chapters=10)
    db.session.commit()
    seat_holders = db.session.scalar(sa.select(sa.func.count()).select_from(Member).join(
        MembershipType, Member.current_type_id == MembershipType.id).where(MembershipType.kind == MembershipKind.CORPORATE_SEAT))
    assert seat_holders > 0, "the demo data should hold corporate seats, the rows that used to be refused"
    before = _snapshot()
    chapters = db.session.scalars(sa.select(Chapter).order_by(Chapter.number)).all()
    assert len(chapters) == 10
    for chapter in chapters:
        content = _export(chapter)
        plan = imports.plan_import(chapter, content)
        assert plan.invalid == [], (chapter.number, [(row.line, row.errors) for row in plan.invalid[:5]])
        assert plan.new == [] and plan.changed == [], (chapter.number, [row.changes for row in plan.changed[:5]])
        assert len(plan.matched) == roster_count(chapter, RosterQuery(), today()) > 0
        result = imports.write_import(chapter, plan, actor=None, source=f"roster-{chapter.number}.csv")
        assert (result.created, result.updated, result.unchanged) == (0, 0, len(plan.matched))
    db.session.commit()
    assert _snapshot() == before


def test_a_corporate_seat_row_for_someone_new_is_still_refused(app):
    demo.seed_demo(members=50, chapters=9)
    db.session.commit()
    chapter = db.session.scalar(sa.select(Chapter).where(Chapter.number == 1))
    plan = imports.plan_import(chapter, b"First name,Last name,Membership type,Member until\n"
                                        b"Ada,Lovelace,Corporate seat,2030-01-01\n")
    assert plan.new == [] and "cannot be imported as new members" in plan.invalid[0].errors[0]


def test_roster_export_then_import_through_the_command_line_changes_nothing(app, tmp_path):
    demo.seed_demo(members=200, chapters=9)
    db.session.commit()
    before = _snapshot()
    runner = app.test_cli_runner()
    target = tmp_path / "roster-1.csv"
    exported = runner.invoke(args=["roster", "export", "--chapter", "1", "-o", str(target)])
    assert exported.exit_code == 0, exported.output
    assert "Corporate seat" in target.read_text(encoding="utf-8-sig")
    imported = runner.invoke(args=["roster", "import", str(target), "--chapter", "1"])
    assert imported.exit_code == 0, imported.output
    assert "0 new" in imported.output and "0 updated" in imported.output, imported.output
    assert _snapshot() == before
