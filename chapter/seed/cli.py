"""Seeding commands: `flask --app wsgi seed-demo`, `demo-logins`, `seed-reference`."""
import secrets

import click
from flask import Flask

from chapter.core.guard import destroy_confirmation_option, is_production, refuse_unless_disposable
from chapter.extensions import db


def register_seed_commands(app: Flask) -> None:
    """Attach the seeding commands to the app's CLI."""

    @app.cli.command("seed-demo")
    @click.option("--members", default=2000, show_default=True, help="How many members to create.")
    @click.option("--chapters", default=30, show_default=True, help="How many chapters (at least 9).")
    @click.option("--reset", is_flag=True, help="Delete all existing data first.")
    @click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database has data.")
    @destroy_confirmation_option(app)
    def seed_demo_command(members: int, chapters: int, reset: bool, if_empty: bool, yes_destroy: bool):
        """Create realistic demo data: districts, chapters, officers, members, demo log-ins.

        Only on development or test settings; on production settings it needs the database's
        --yes-destroy-NAME flag, and the demo accounts get a random password instead of the published one.
        """
        from chapter.seed import demo

        if chapters < 9:
            raise click.BadParameter("at least 9 chapters, one per district", param_hint="--chapters")
        refuse_unless_disposable(
            "delete every row and seed demo data" if reset else "add demo accounts and members",
            confirmed=yes_destroy,
        )
        if if_empty and demo.database_has_data():
            click.echo("The database already has data; nothing seeded.")
            _print_logins()
            return
        # The published demo password never exists on production settings.
        password = secrets.token_urlsafe(16) if is_production() else demo.DEMO_PASSWORD
        try:
            with click.progressbar(length=members, label=f"Seeding {members:,} members") as bar:
                counts = demo.seed_demo(members=members, chapters=chapters, reset=reset, progress=bar.update,
                                        password=password)
        except demo.SeedRefused as error:
            db.session.rollback()
            raise click.ClickException(str(error))
        db.session.commit()
        click.echo(f"Created {counts['chapters']} chapters and {counts['members']:,} members.")
        _print_logins(password)

    @app.cli.command("demo-logins")
    def demo_logins_command():
        """Print the demo log-ins that seed-demo creates."""
        _print_logins()

    @app.cli.command("seed-reference")
    def seed_reference_command():
        """Add the standard districts, officer positions and membership types that are missing."""
        from chapter.seed.reference import ensure_reference_data

        ensure_reference_data()
        db.session.commit()
        click.echo("Reference data is in place.")


def _print_logins(password: str | None = None) -> None:
    from chapter.seed.demo import DEMO_LOGINS, DEMO_PASSWORD

    if password is None and is_production():
        click.echo("\nProduction settings: demo accounts, if any, have the random password printed when they were seeded.")
        password = "(not shown)"
    click.echo(f"\nDemo log-ins (password for all: {password or DEMO_PASSWORD}):")
    for login in DEMO_LOGINS:
        click.echo(f"  {login.role:<18} {login.email:<26} {login.what}")
