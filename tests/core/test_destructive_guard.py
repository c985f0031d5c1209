"""Destructive commands refuse production settings unless the database is named; no demo password there."""
import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.models import Chapter
from chapter.core.guard import database_name
from chapter.extensions import db
from chapter.members.models import Member
from chapter.seed import demo
from tests import factories
from tests.production import production_app


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_database_name_is_what_the_operator_types():
    assert database_name("postgresql+psycopg://chapter:pw@db.internal:5432/chapter_live") == "chapter_live"
    assert database_name("sqlite:////srv/chapter/instance/chapter.sqlite") == "chapter"


def test_seed_demo_reset_refuses_production_settings_and_deletes_nothing(app):
    factories.member(home=factories.chapter(40))
    db.session.commit()
    with production_app(app) as prod:
        result = prod.test_cli_runner().invoke(args=["seed-demo", "--reset", "--members", "20", "--chapters", "9"])
        assert result.exit_code == 1, result.output
        assert "Refusing to delete every row" in result.output
        assert f"--yes-destroy-{database_name(prod.config['SQLALCHEMY_DATABASE_URI'])}" in result.output
        assert _count(Chapter) == 1 and _count(Member) == 1
        assert not db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))


def test_seed_demo_into_an_empty_production_database_is_refused_too(app):
    with production_app(app) as prod:
        result = prod.test_cli_runner().invoke(args=["seed-demo", "--if-empty", "--members", "20", "--chapters", "9"])
        assert result.exit_code == 1 and "Refusing to add demo accounts" in result.output
        assert _count(User) == 0


def test_a_wrong_database_name_does_not_confirm(app):
    with production_app(app) as prod:
        result = prod.test_cli_runner().invoke(args=["seed-demo", "--reset", "--yes-destroy-some-other-db"])
        assert result.exit_code == 2 and "No such option" in result.output
        assert _count(User) == 0


def test_named_database_confirms_and_demo_accounts_get_a_random_password(app):
    factories.member(home=factories.chapter(40))
    db.session.commit()
    with production_app(app) as prod:
        flag = f"--yes-destroy-{database_name(prod.config['SQLALCHEMY_DATABASE_URI'])}"
        result = prod.test_cli_runner().invoke(args=["seed-demo", "--reset", flag, "--members", "20", "--chapters", "9"])
        assert result.exit_code == 0, result.output
        assert demo.DEMO_PASSWORD not in result.output
        assert _count(Chapter) == 9  # the chapter made before was deleted with everything else
        staff = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        assert staff is not None and not staff.check_password(demo.DEMO_PASSWORD)
        printed = result.output.split("password for all: ")[1].split(")")[0]
        assert staff.check_password(printed)


def test_development_settings_seed_with_the_demo_password(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--reset", "--members", "20", "--chapters", "9"])
    assert result.exit_code == 0, result.output
    staff = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
    assert staff.check_password(demo.DEMO_PASSWORD)


def test_demo_logins_on_production_settings_do_not_print_the_demo_password(app):
    with production_app(app) as prod:
        result = prod.test_cli_runner().invoke(args=["demo-logins"])
        assert result.exit_code == 0 and demo.DEMO_PASSWORD not in result.output
