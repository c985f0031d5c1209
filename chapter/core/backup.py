"""Backups and restore: `flask --app wsgi backup` and `flask --app wsgi restore FILE`.

PostgreSQL is dumped with `pg_dump --format=custom` (its major version must be at least the server's)
and restored with `pg_restore`; SQLite is copied with its online backup API, so the app may keep
serving while either runs. Backups go to BACKUP_DIR (instance/backups/) named after the database and
the UTC time; the newest BACKUP_KEEP are kept. A restore goes into an empty database only.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.engine import URL, make_url

from chapter.core.guard import database_name
from chapter.extensions import db


class BackupError(Exception):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size_bytes: int
    removed: list[Path]


def _url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(name)}-\d{{4}}-\d{{2}}-\d{{2}}T\d{{6}}-\d{{6}}Z\.(dump|sqlite)$")


def backups_of(directory: Path, name: str) -> list[Path]:
    """This database's backups in `directory`, oldest first (the names sort by time)."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if _pattern(name).match(path.name))


def make_backup(directory: Path | None = None, keep: int | None = None) -> Backup:
    """Write a dated backup of the app's database into `directory`, then delete all but the newest `keep`."""
    directory = Path(directory or current_app.config["BACKUP_DIR"])
    keep = current_app.config["BACKUP_KEEP"] if keep is None else keep
    if keep < 1:
        raise BackupError("Keep at least one backup.")
    # Backups hold personal data and password hashes: only the app's user may read them.
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = _url()
    name = database_name(str(current_app.config["SQLALCHEMY_DATABASE_URI"]))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%S-%fZ")
    backend = url.get_backend_name()
    if backend == "postgresql":
        target = directory / f"{name}-{stamp}.dump"
        _pg_dump(url, target)
    elif backend == "sqlite":
        target = directory / f"{name}-{stamp}.sqlite"
        _sqlite_backup(url, target)
    else:
        raise BackupError(f"Backups of {backend} databases are not supported (PostgreSQL and SQLite are).")
    target.chmod(0o600)
    removed = []
    for old in backups_of(directory, name)[:-keep]:
        old.unlink()
        removed.append(old)
    return Backup(path=target, size_bytes=target.stat().st_size, removed=removed)


def restore_backup(path: Path) -> None:
    """Load a backup into the app's database, which must be empty (no tables)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    tables = sa.inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(
            f"The database {database_name(str(current_app.config['SQLALCHEMY_DATABASE_URI']))} is not empty "
            f"({len(tables)} tables). Restore into an empty database (createdb a new one, point DATABASE_URL "
            "at it), then switch the app over.")
    db.session.remove()
    db.engine.dispose()
    url = _url()
    backend = url.get_backend_name()
    if backend == "postgresql":
        if path.suffix != ".dump":
            raise BackupError(f"{path.name} is not a PostgreSQL backup (.dump).")
        _pg_restore(url, path)
    elif backend == "sqlite":
        if path.suffix != ".sqlite":
            raise BackupError(f"{path.name} is not a SQLite backup (.sqlite).")
        _sqlite_restore(url, path)
    else:
        raise BackupError(f"Restoring {backend} databases is not supported (PostgreSQL and SQLite are).")
    db.engine.dispose()


# --- PostgreSQL -------------------------------------------------------------------------------

def _major(version_text: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if not found:
        raise BackupError(f"Cannot read a version from {version_text!r}.")
    return int(found.group(1))


def _tool(config_key: str) -> str:
    command = current_app.config.get(config_key) or config_key.lower()
    found = shutil.which(command)
    if found is None:
        raise BackupError(f"{command} is not installed or not on PATH: apt-get install postgresql-client (of the "
                          f"server's major version), or set {config_key} to its path.")
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries the password."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def server_major_version() -> int:
    """The PostgreSQL server's major version (e.g. 15)."""
    number = db.session.scalar(sa.text("SELECT current_setting('server_version_num')"))
    return int(number) // 10000


def check_pg_dump() -> tuple[str, int, int]:
    """pg_dump's path and major version and the server's; refuses a pg_dump older than the server."""
    pg_dump = _tool("PG_DUMP")
    version = subprocess.run([pg_dump, "--version"], capture_output=True, text=True, timeout=30)
    tool_major = _major(version.stdout)
    server_major = server_major_version()
    if tool_major < server_major:
        raise BackupError(
            f"{pg_dump} is version {tool_major}, older than the PostgreSQL {server_major} server, and cannot dump it: "
            f"install postgresql-client-{server_major} and set PG_DUMP (and PG_RESTORE) to its programs, e.g. "
            f"/usr/lib/postgresql/{server_major}/bin/pg_dump.")
    return pg_dump, tool_major, server_major


def _pg_dump(url: URL, target: Path) -> None:
    pg_dump, _tool_major, _server_major = check_pg_dump()
    uri, env = _libpq(url)
    partial = target.with_name(target.name + ".partial")
    partial.touch(mode=0o600)
    result = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
                             f"--dbname={uri}"], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    listed = subprocess.run([_tool("PG_RESTORE"), "--list", str(partial)], capture_output=True, text=True)
    if listed.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"The dump cannot be read back (pg_restore --list): {listed.stderr.strip()}")
    partial.rename(target)


def _pg_restore(url: URL, path: Path) -> None:
    uri, env = _libpq(url)
    result = subprocess.run([_tool("PG_RESTORE"), "--no-owner", "--no-privileges", "--exit-on-error",
                             "--single-transaction", f"--dbname={uri}", str(path)],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed; nothing was restored: {result.stderr.strip()}")


# --- SQLite -----------------------------------------------------------------------------------

def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


def _sqlite_backup(url: URL, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    partial.touch(mode=0o600)
    source = sqlite3.connect(_sqlite_path(url))
    copy = sqlite3.connect(partial)
    try:
        with copy:
            source.backup(copy)
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
        source.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"The copy failed SQLite's integrity check: {check}")
    partial.rename(target)


def _sqlite_restore(url: URL, path: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(_sqlite_path(url))
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


# --- Commands ---------------------------------------------------------------------------------

def register_backup_commands(app: Flask) -> None:
    """Attach `backup` and `restore` to the app's CLI."""

    @app.cli.command("backup")
    @click.option("--keep", type=click.IntRange(min=1), default=None,
                  help="How many backups of this database to keep (default: BACKUP_KEEP, 14).")
    @click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Where to write it (default: BACKUP_DIR, instance/backups/).")
    def backup_command(keep: int | None, directory: Path | None):
        """Back up the database (pg_dump, or SQLite's online backup) into a dated file; keep the newest N."""
        try:
            made = make_backup(directory, keep)
        except BackupError as error:
            raise click.ClickException(str(error))
        click.echo(f"Backup written: {made.path} ({made.size_bytes:,} bytes)")
        for old in made.removed:
            click.echo(f"Removed the old backup {old.name}")

    @app.cli.command("restore")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def restore_command(file: Path):
        """Load a backup made by `backup` into this (empty) database."""
        try:
            restore_backup(file)
        except BackupError as error:
            raise click.ClickException(str(error))
        click.echo(f"Restored {file.name} into {database_name(str(current_app.config['SQLALCHEMY_DATABASE_URI']))}.")
