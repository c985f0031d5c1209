"""The migration history has one head, builds the schema on an empty database, and matches the models."""
import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from chapter import create_app
from chapter.extensions import db
from chapter.members.search import include_in_autogenerate
from config import BASE_DIR, TestConfig
from tests.databases import create_database_beside


def test_migration_history_has_a_single_head():
    config = AlembicConfig(str(BASE_DIR / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(BASE_DIR / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


def _empty_database_url(kind: str, tmp_path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite'}", lambda: None
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set: the PostgreSQL migration test needs it")
    return create_database_beside(base, f"chapter_migrate_{uuid.uuid4().hex[:10]}")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_builds_the_schema_of_the_models_on_an_empty_database(kind, tmp_path):
    url, drop = _empty_database_url(kind, tmp_path)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                tables = set(sa.inspect(connection).get_table_names())
                context = MigrationContext.configure(connection, opts={"include_object": include_in_autogenerate})
                differences = compare_metadata(context, db.metadata)
            assert {"users", "districts", "chapters", "officer_terms", "members", "membership_types",
                    "membership_terms", "organizations", "chapter_transfers"} <= tables
            assert differences == [], f"models and migrations differ: {differences}"
            db.engine.dispose()
    finally:
        drop()


def _triggers(connection) -> dict[str, str]:
    """Every trigger of the database (and, on PostgreSQL, the functions they run), by name, as the database has it."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        return {name: " ".join(sql.split()) for name, sql in rows}
    triggers = connection.execute(sa.text(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal")).all()
    functions = connection.execute(sa.text(
        "SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'chapter\\_%'")).all()
    return {**dict(triggers), **{f"function {name}": " ".join(source.split()) for name, source in functions}}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_makes_the_triggers_the_models_make(kind, tmp_path):
    """The count generations' triggers (and the SQLite search index's) come from the migrations' own copies of
    the statements: they must stay the same as the models' (which the tests' databases are made from)."""
    migrated_url, drop_migrated = _empty_database_url(kind, tmp_path)
    created_url, drop_created = _empty_database_url(kind, tmp_path / "created") if kind == "postgresql" else (
        f"sqlite:///{tmp_path / 'created.sqlite'}", lambda: None)
    try:
        found = {}
        for label, url in (("migrated", migrated_url), ("created", created_url)):
            app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
            with app.app_context():
                upgrade() if label == "migrated" else db.create_all()
                with db.engine.connect() as connection:
                    found[label] = _triggers(connection)
                db.engine.dispose()
        assert any("roster" in name for name in found["created"])
        assert found["migrated"] == found["created"]
    finally:
        drop_migrated()
        drop_created()
