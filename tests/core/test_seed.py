"""Demo data: realistic, refuses a database with data unless asked to reset."""
import pytest
import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.models import Chapter, District, OfficerTerm
from chapter.seed import demo
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus


def test_seed_demo_creates_districts_chapters_officers_members_in_every_status(app):
    counts = demo.seed_demo(members=300, chapters=12)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(District)) == 9
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Chapter)) == 12 == counts["chapters"]
    members = db.session.scalars(sa.select(Member)).all()
    assert len(members) >= 300
    statuses = {m.status_on(today()) for m in members}
    assert statuses == set(MembershipStatus)
    chapters_with_president = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(OfficerTerm.chapter_id))))
    assert chapters_with_president == 12
    for login in demo.DEMO_LOGINS:
        user = db.session.scalar(sa.select(User).where(User.email == login.email))
        assert user is not None and user.check_password(demo.DEMO_PASSWORD)


def test_seed_refuses_a_database_with_data_unless_reset(app):
    demo.seed_demo(members=20, chapters=9)
    db.session.commit()
    with pytest.raises(demo.SeedRefused):
        demo.seed_demo(members=20, chapters=9)
    demo.seed_demo(members=30, chapters=10, reset=True)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Chapter)) == 10


def test_seed_command_prints_the_demo_logins(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--members", "50", "--chapters", "9"])
    assert result.exit_code == 0, result.output
    assert "staff@example.org" in result.output and demo.DEMO_PASSWORD in result.output
    again = runner.invoke(args=["seed-demo", "--members", "50", "--chapters", "9"])
    assert again.exit_code != 0 and "--reset" in again.output
    quiet = runner.invoke(args=["seed-demo", "--if-empty"])
    assert quiet.exit_code == 0 and "nothing seeded" in quiet.output
