"""Guards for destructive commands: they run on development and test databases, and on a production
database only when the operator names it, as in `--yes-destroy-chapter` for the database `chapter`."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import click
from flask import Flask, current_app
from sqlalchemy.engine import make_url

DISPOSABLE_ENVIRONMENTS = ("development", "testing")


def environment(app: Flask | None = None) -> str:
    """production, development or testing (config.py's ENVIRONMENT; production when unset)."""
    return (app or current_app).config.get("ENVIRONMENT", "production")


def is_production(app: Flask | None = None) -> bool:
    """True unless the configuration is development or testing."""
    return environment(app) not in DISPOSABLE_ENVIRONMENTS


def database_name(uri: str) -> str:
    """The name an operator types to confirm: PostgreSQL's database name, a SQLite file's stem."""
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        name = Path(url.database).stem if url.database and url.database != ":memory:" else "memory"
    else:
        name = url.database or "default"
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "default"


def destroy_flag(app: Flask | None = None) -> str:
    """The confirmation flag for this app's database, e.g. `--yes-destroy-chapter`."""
    return f"--yes-destroy-{database_name((app or current_app).config['SQLALCHEMY_DATABASE_URI'])}"


def destroy_confirmation_option(app: Flask) -> Callable:
    """A click option `--yes-destroy-<database name>` (parameter `yes_destroy`) for a destructive command."""
    return click.option(
        destroy_flag(app), "yes_destroy", is_flag=True,
        help="Confirm that this database may be destroyed even with production settings.",
    )


def refuse_unless_disposable(what: str, *, confirmed: bool) -> None:
    """Stop a destructive command (ClickException, exit 1) on production settings unless confirmed."""
    if confirmed or not is_production():
        return
    raise click.ClickException(
        f"Refusing to {what}: these are production settings (FLASK_CONFIG is not development or testing). "
        f"If you mean it, run the command again with {destroy_flag()}."
    )
