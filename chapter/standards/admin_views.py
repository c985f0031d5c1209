"""Staff edit the minimum standards and the recognition levels (data, not code)."""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from chapter.core import activity
from chapter.core.errors import DomainError
from chapter.core.forms import attach_domain_error
from chapter.core.permissions import staff_required
from chapter.extensions import db
from chapter.standards import bp, services
from chapter.standards.forms import LevelForm, NewStandardForm, StandardForm
from chapter.standards.models import RecognitionLevel, Standard, StandardKind


def _new_form(form: NewStandardForm | None = None) -> NewStandardForm:
    form = form or NewStandardForm(is_active=True, minimum=1)
    form.activity_kind.choices = [("", "—")] + [(kind.key, kind.label) for kind in activity.kinds()]
    return form


def _page(status: int = 200, *, failed: tuple[str, int, object] | None = None, new_form=None):
    """The standards and levels, each with its own form; the one that failed keeps its input and errors."""
    standards = db.session.scalars(sa.select(Standard).order_by(Standard.sort_order, Standard.id)).all()
    levels = db.session.scalars(sa.select(RecognitionLevel).order_by(RecognitionLevel.standards_met)).all()
    standard_forms = {s.id: StandardForm(obj=s, prefix=f"s{s.id}") for s in standards}
    level_forms = {level.id: LevelForm(obj=level, prefix=f"l{level.id}") for level in levels}
    if failed:
        kind, object_id, form = failed
        (standard_forms if kind == "standard" else level_forms)[object_id] = form
    return render_template("standards/admin.html", standards=standards, levels=levels, standard_forms=standard_forms,
                           level_forms=level_forms, new_form=_new_form(new_form)), status


def _save(form, action: Callable[[], object], message: Callable[[], str]):
    """Validate, run the service, commit and go back to the list; None (with the errors on the form) if refused."""
    if not form.validate_on_submit():
        return None
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        attach_domain_error(form, error)
        return None
    db.session.commit()
    flash(message(), "success")
    return redirect(url_for("standards.admin"))


@bp.get("/admin/standards")
@staff_required
def admin():
    """Every standard with its threshold, and the recognition levels."""
    return _page()


@bp.post("/admin/standards/<int:standard_id>")
@staff_required
def admin_update(standard_id: int):
    """Save one standard."""
    standard = db.session.get(Standard, standard_id) or abort(404)
    form = StandardForm(prefix=f"s{standard.id}")
    saved = _save(form, lambda: services.update_standard(
        standard, actor=current_user, title=form.title.data, minimum=form.minimum.data,
        position_codes=form.position_codes.data or None, is_active=form.is_active.data,
        sort_order=form.sort_order.data or 0), lambda: f"Saved “{standard.title}”.")
    return saved or _page(400, failed=("standard", standard.id, form))


@bp.post("/admin/standards/new")
@staff_required
def admin_add():
    """Add a standard."""
    form = _new_form(NewStandardForm())
    saved = _save(form, lambda: services.add_standard(
        actor=current_user, code=form.code.data, title=form.title.data, kind=StandardKind(form.kind.data),
        activity_kind=form.activity_kind.data or None, minimum=form.minimum.data,
        position_codes=form.position_codes.data or None), lambda: f"Added “{form.title.data}”.")
    return saved or _page(400, new_form=form)


@bp.post("/admin/standards/levels/<int:level_id>")
@staff_required
def admin_level(level_id: int):
    """Save one recognition level's name and threshold."""
    level = db.session.get(RecognitionLevel, level_id) or abort(404)
    form = LevelForm(prefix=f"l{level.id}")
    saved = _save(form, lambda: services.update_level(level, actor=current_user, name=form.name.data,
                                                      standards_met=form.standards_met.data),
                  lambda: f"Saved the {level.name} level.")
    return saved or _page(400, failed=("level", level.id, form))
