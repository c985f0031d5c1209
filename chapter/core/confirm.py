"""Asking once more before an action that cannot be undone or that moves money: a page that says what will
happen, in words, with Yes and Cancel (templates/core/confirm.html). No JavaScript dialog: it works everywhere."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import render_template, request

from chapter.extensions import db


def is_confirmed() -> bool:
    """The person pressed Yes on the confirmation page (the form carries confirmed=yes)."""
    return request.form.get("confirmed") == "yes"


def confirmation_page(*, heading: str, consequences: list[str], action: str, fields: dict[str, str],
                      confirm_label: str, cancel_url: str, danger: bool = True):
    """The page that asks; posting it sends `fields` again to `action` with confirmed=yes."""
    return render_template("core/confirm.html", heading=heading, consequences=consequences, action=action,
                           fields=fields, confirm_label=confirm_label, cancel_url=cancel_url, danger=danger)


@contextmanager
def dry_run(enabled: bool) -> Iterator[None]:
    """Run the block in a savepoint rolled back afterwards, to tell exactly what the action would do."""
    if not enabled:
        yield
        return
    savepoint = db.session.begin_nested()
    try:
        yield
    finally:
        if savepoint.is_active:
            savepoint.rollback()
