"""Backups: a dated file per run, the newest N kept, and a restore into an empty database that holds
the same members, terms, payments and ledger totals."""
from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa

from chapter.certifications.models import MemberCertification
from chapter.core.backup import backups_of
from chapter.core.guard import database_name
from chapter.extensions import db
from chapter.members.models import Member, MembershipTerm
from chapter.payments.models import Payment, Refund
from chapter.seed import demo
from chapter.treasury.models import LedgerEntry


def _snapshot() -> dict:
    db.session.expire_all()
    return {
        "members": db.session.execute(sa.select(Member.member_number, Member.last_name, Member.paid_through,
                                                Member.home_chapter_id).order_by(Member.member_number)).all(),
        "terms": db.session.execute(sa.select(MembershipTerm.member_id, MembershipTerm.starts_on, MembershipTerm.ends_on)
                                    .order_by(MembershipTerm.id)).all(),
        "payments": db.session.execute(sa.select(sa.func.count(), sa.func.sum(Payment.amount_cents),
                                                 sa.func.sum(Payment.chapter_share_cents))).one(),
        "refunds": db.session.execute(sa.select(sa.func.count(), sa.func.sum(Refund.amount_cents))).one(),
        "ledger": db.session.execute(sa.select(LedgerEntry.kind, sa.func.count(), sa.func.sum(LedgerEntry.amount_cents))
                                     .group_by(LedgerEntry.kind).order_by(LedgerEntry.kind)).all(),
        "certifications": db.session.scalar(sa.select(sa.func.count()).select_from(MemberCertification)),
    }


def _name(app) -> str:
    return database_name(app.config["SQLALCHEMY_DATABASE_URI"])


def test_a_backup_restored_into_an_empty_database_has_the_same_members_terms_payments_and_ledger(app, tmp_path):
    demo.seed_demo(members=300, chapters=9)
    db.session.commit()
    before = _snapshot()
    assert before["payments"][0] > 0 and before["ledger"] and before["terms"]
    runner = app.test_cli_runner()
    made = runner.invoke(args=["backup", "--dir", str(tmp_path)])
    assert made.exit_code == 0, made.output
    [backup] = backups_of(tmp_path, _name(app))
    assert f"Backup written: {backup}" in made.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # personal data and password hashes: owner only

    refused = runner.invoke(args=["restore", str(backup)])
    assert refused.exit_code == 1 and "is not empty" in refused.output

    db.session.remove()
    db.drop_all()
    try:
        assert sa.inspect(db.engine).get_table_names() == []
        restored = runner.invoke(args=["restore", str(backup)])
        assert restored.exit_code == 0, restored.output
        assert _snapshot() == before
    finally:
        db.session.remove()
        if not sa.inspect(db.engine).get_table_names():
            db.create_all()  # leave the schema for the next tests, whatever happened


def test_backup_keeps_the_newest_n(app, tmp_path):
    runner = app.test_cli_runner()
    for _ in range(3):
        result = runner.invoke(args=["backup", "--dir", str(tmp_path), "--keep", "2"])
        assert result.exit_code == 0, result.output
    assert "Removed the old backup" in result.output
    kept = backups_of(tmp_path, _name(app))
    assert len(kept) == 2
    (tmp_path / "notes.txt").write_text("not a backup")
    runner.invoke(args=["backup", "--dir", str(tmp_path), "--keep", "1"])
    assert len(backups_of(tmp_path, _name(app))) == 1 and (tmp_path / "notes.txt").exists()


def test_backup_refuses_a_pg_dump_older_than_the_server(app, tmp_path):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("pg_dump's version matters for PostgreSQL only")
    # An old pg_dump cannot be installed next to the current one here, so a script answers --version
    # as PostgreSQL 9.6's would; the check reads only that line.
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(old.stat().st_mode | stat.S_IEXEC)
    app.config["PG_DUMP"] = str(old)
    result = app.test_cli_runner().invoke(args=["backup", "--dir", str(tmp_path / "out")])
    assert result.exit_code == 1 and "older than the PostgreSQL" in result.output
    assert backups_of(tmp_path / "out", _name(app)) == []


def test_backup_says_when_pg_dump_is_missing(app, tmp_path):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite needs no outside program")
    app.config["PG_DUMP"] = str(tmp_path / "no-such-pg_dump")
    result = app.test_cli_runner().invoke(args=["backup", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "is not installed" in result.output and "Traceback" not in result.output
