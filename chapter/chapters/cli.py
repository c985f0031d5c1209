"""Batch commands: `flask --app wsgi roster import FILE --chapter N`, `flask --app wsgi roster export --chapter N`."""
from __future__ import annotations

import sys
import time

import click

from chapter.chapters import bp


@bp.cli.group("roster")
def roster_group():
    """Import and export chapter rosters as CSV."""


def _chapter(number: int):
    from chapter.chapters.services import get_chapter_by_number

    chapter = get_chapter_by_number(number)
    if chapter is None:
        raise click.BadParameter(f"there is no chapter #{number}", param_hint="--chapter")
    return chapter


def _actor(email: str | None):
    if email is None:
        return None
    from chapter.auth.services import find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise click.BadParameter(f"no account uses {email}", param_hint="--as")
    return user


@roster_group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--chapter", "chapter_number", type=int, required=True, help="Number of the chapter to import into.")
@click.option("--as", "actor_email", metavar="EMAIL", help="Record the import in the audit log as done by this account.")
@click.option("--dry-run", is_flag=True, help="Check the file and print the preview; write nothing.")
def import_command(file, chapter_number: int, actor_email: str | None, dry_run: bool):
    """Import a CSV file of members into a chapter: every row, or none if any row is invalid."""
    from chapter.chapters import imports
    from chapter.core.errors import DomainError
    from chapter.extensions import db

    chapter = _chapter(chapter_number)
    actor = _actor(actor_email)
    started = time.perf_counter()
    content = file.read(imports.MAX_IMPORT_BYTES + 1)
    try:
        # Without --as it is the operator's own import; with it, what that account may do.
        plan = imports.plan_import(chapter, content,
                                   may_grant=actor is None or imports.may_grant_staff_only(actor))
    except imports.ImportRefused as refusal:
        raise click.ClickException(refusal.message)
    click.echo(f"{getattr(file, 'name', 'file')}: {plan.total:,} rows read as {plan.encoding}, "
               f"{plan.delimiter}-separated, in {time.perf_counter() - started:.1f} s")
    click.echo(f"  new: {len(plan.new):,}   matched: {len(plan.matched):,} ({len(plan.changed):,} with changes)   "
               f"invalid: {len(plan.invalid):,}")
    if plan.ignored_columns:
        click.echo(f"  ignored columns: {', '.join(plan.ignored_columns)}")
    if plan.invalid:
        for row in plan.invalid:
            click.echo(f"  line {row.line}: {' '.join(row.errors)}", err=True)
        raise click.ClickException(f"{len(plan.invalid):,} invalid row(s); nothing was imported. "
                                   "Correct the file and run the command again.")
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    with click.progressbar(length=len(plan.new) + len(plan.matched), label="Importing",
                           file=sys.stderr, show_pos=True) as bar:
        try:
            result = imports.write_import(chapter, plan, actor=actor, source=getattr(file, "name", "CSV file"),
                                          progress=bar.update)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(f"{error.message}")
    click.echo(f"Imported into {chapter.display_name}: {result.created:,} new, {result.updated:,} updated, "
               f"{result.unchanged:,} unchanged, in {time.perf_counter() - started:.1f} s.")


@roster_group.command("export")
@click.option("--chapter", "chapter_number", type=int, required=True, help="Number of the chapter to export.")
@click.option("--status", type=click.Choice(["active", "grace", "lapsed", "pending"]), help="Only members in this status.")
@click.option("--view", type=click.Choice(["expiring-30", "expiring-60", "expiring-90", "lapsed-12-months", "new-this-month"]),
              help="A ready-made list.")
@click.option("--as", "actor_email", metavar="EMAIL", help="Record the export in the audit log as done by this account.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-", show_default=True,
              help="Where to write the CSV.")
def export_command(chapter_number: int, status: str | None, view: str | None, actor_email: str | None, output):
    """Write a chapter's roster (optionally one status or ready-made list) as CSV."""
    from chapter.chapters import exports, services
    from chapter.core.models import today
    from chapter.extensions import db
    from chapter.members.models import MembershipStatus

    chapter = _chapter(chapter_number)
    actor = _actor(actor_email)
    view_enum = services.RosterView(view) if view else None
    query = services.RosterQuery(status=MembershipStatus(status) if status else None, view=view_enum,
                                 sort=view_enum.default_sort if view_enum else services.RosterSort.NAME)
    day = today()
    rows = services.roster_count(chapter, query, day)
    exports.record_export(chapter, query, rows=rows, actor=actor)
    db.session.commit()
    with click.progressbar(length=rows, label=f"Exporting {rows:,} members", file=sys.stderr) as bar:
        for chunk in exports.export_csv(chapter, query, day):
            output.write(chunk)
            bar.update(max(0, chunk.count("\r\n") - (1 if chunk.startswith("\ufeff") else 0)))
    db.session.remove()


@bp.cli.command("roles")
@click.option("--reference", is_flag=True,
              help="Use the positions a new installation starts with (what README.md shows), not this database's.")
@click.option("--markdown", is_flag=True, help="Print a Markdown table (README.md's).")
def roles_command(reference: bool, markdown: bool):
    """Print what each officer position, the district manager and national staff may do in a chapter."""
    from chapter.chapters import roles

    if reference:
        from chapter.seed.chapters import reference_positions

        positions = reference_positions()
    else:
        positions = roles.database_positions()
        if not positions:
            raise click.ClickException("This database has no officer positions yet: run `seed-reference`, "
                                       "or add --reference for the standard ones.")
    rows = roles.role_rows(positions)
    click.echo(roles.markdown_table(rows) if markdown else roles.text_table(rows), nl=False)
