"""Chapter health pages: a chapter's months, a district's chapters side by side, every district for staff."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from chapter.chapters.models import Chapter, District
from chapter.core.models import today
from chapter.core.permissions import current_roles
from chapter.extensions import db
from chapter.health import bp
from chapter.health.figures import chapter_figures, total
from chapter.health.tables import MEASURES, Table, monthly_tables, ranked_table


def _csv_or_page(tables: list[Table], filename: str, template: str, **context):
    """?format=csv&table=KEY: that table as CSV; otherwise the page."""
    if request.args.get("format") == "csv":
        wanted = request.args.get("table", tables[0].key)
        table = next((t for t in tables if t.key == wanted), None)
        if table is None:
            abort(404)
        return Response(table.csv(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{filename}-{table.key}.csv"'})
    return render_template(template, tables=tables, **context)


def _rank_by() -> str:
    wanted = request.args.get("rank", "active")
    return wanted if wanted in MEASURES else "active"


@bp.get("/health")
@login_required
def index():
    """Where health starts: staff see every district, a district manager their district, officers their chapter."""
    roles = current_roles()
    if roles.is_staff:
        return _all_districts()
    if len(roles.managed_district_ids) == 1 and not roles.is_officer:
        district = db.session.get(District, next(iter(roles.managed_district_ids)))
        return redirect(url_for("health.district", code=district.code))
    chapters = _visible_chapters(roles)
    if not chapters:
        abort(403)
    if len(chapters) == 1:
        return redirect(url_for("health.chapter", number=chapters[0].number))
    districts = db.session.scalars(sa.select(District).where(District.id.in_(roles.managed_district_ids))
                                   .order_by(District.name)).all()
    return render_template("health/choose.html", chapters=chapters, districts=districts)


def _visible_chapters(roles) -> list[Chapter]:
    """The chapters whose roster this officer sees (their own chapters)."""
    ids = [cid for cid, positions in roles.positions_by_chapter.items() if any(p.can_view_roster for p in positions)]
    return list(db.session.scalars(sa.select(Chapter).where(Chapter.id.in_(ids)).order_by(Chapter.number))) if ids else []


def _all_districts():
    """Staff: every district side by side (its chapters summed), ranked by the chosen measure."""
    rank_by = _rank_by()
    chapters = db.session.execute(sa.select(Chapter.id, Chapter.district_id)).all()
    figures = chapter_figures([cid for cid, _ in chapters], today())
    districts = db.session.scalars(sa.select(District).order_by(District.name)).all()
    months = next(iter(figures.values())).months if figures else ()
    named = [(d.name, total({cid: figures[cid] for cid, did in chapters if did == d.id}, months)) for d in districts]
    tables = [ranked_table("districts", "Districts side by side", named, rank_by)] if months else []
    if months:
        tables += monthly_tables(total(figures, months))
    codes = {d.name: d.code for d in districts}
    return _csv_or_page(tables, "health-all", "health/all.html", rank_by=rank_by, measures=MEASURES, codes=codes)


@bp.get("/health/districts/<code>")
@login_required
def district(code: str):
    """A district's chapters side by side, ranked by a chosen measure, and the district's months."""
    found = db.session.scalar(sa.select(District).where(District.code == code[:20]))
    if found is None:
        abort(404)
    roles = current_roles()
    if not (roles.is_staff or found.id in roles.managed_district_ids):
        abort(403)
    rank_by = _rank_by()
    chapters = db.session.scalars(sa.select(Chapter).where(Chapter.district_id == found.id)
                                  .order_by(Chapter.number)).all()
    figures = chapter_figures([c.id for c in chapters], today())
    tables = []
    if chapters:
        months = figures[chapters[0].id].months
        named = [(c.display_name, figures[c.id]) for c in chapters]
        tables = [ranked_table("chapters", f"Chapters of {found.name} side by side", named, rank_by)]
        tables += monthly_tables(total(figures, months))
    numbers = {c.display_name: c.number for c in chapters}
    return _csv_or_page(tables, f"health-{found.code}", "health/district.html", district=found, rank_by=rank_by,
                        measures=MEASURES, numbers=numbers)


@bp.get("/health/chapters/<int:number>")
@login_required
def chapter(number: int):
    """One chapter's health over 24 months: members by status, renewals, in and out, events and messages."""
    found = db.session.scalar(sa.select(Chapter).where(Chapter.number == number))
    if found is None:
        abort(404)
    if not current_roles().can_view_roster(found):
        abort(403)
    figures = chapter_figures([found.id], today())[found.id]
    return _csv_or_page(monthly_tables(figures), f"health-chapter-{number}", "health/chapter.html", chapter=found,
                        user=current_user)
