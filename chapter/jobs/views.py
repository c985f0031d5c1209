"""The staff jobs page (/admin/jobs) and the worker health check (/healthz/worker)."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.core.permissions import staff_required
from chapter.extensions import db, limiter
from chapter.jobs import bp, outbox, services


@bp.get("/admin/jobs")
@staff_required
def overview():
    """Queue depth, workers, failures, dead mail and jobs, and the periodic tasks' last runs."""
    return render_template("jobs/overview.html", overview=services.jobs_overview(), now=utcnow(),
                           stale_after=services.WORKER_STALE_AFTER)


def _act(action, object_id: int, done: str):
    try:
        action(object_id, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("jobs.overview"))


@bp.post("/admin/jobs/mail/<int:mail_id>/retry")
@staff_required
def retry_mail(mail_id: int):
    """Queue a dead mail again."""
    return _act(outbox.retry_dead_mail, mail_id, "The mail is queued again.")


@bp.post("/admin/jobs/mail/<int:mail_id>/discard")
@staff_required
def discard_mail(mail_id: int):
    """Give up on a dead mail."""
    return _act(outbox.discard_dead_mail, mail_id, "The mail is discarded.")


@bp.post("/admin/jobs/failures/<int:failure_id>/retry")
@staff_required
def retry_job(failure_id: int):
    """Queue a dead job again."""
    return _act(services.retry_dead_job, failure_id, "The job is queued again.")


@bp.post("/admin/jobs/failures/<int:failure_id>/discard")
@staff_required
def discard_job(failure_id: int):
    """Give up on a dead job."""
    return _act(services.discard_dead_job, failure_id, "The job is discarded.")


@bp.get("/healthz/worker")
@limiter.exempt
def worker_health():
    """When a worker last reported: 200 while one reported recently, 503 when none did."""
    try:
        last, live = services.worker_status()
    except Exception:  # the database is down
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    body = dict(status="ok" if live else "stale", workers=live,
                last_report=last.isoformat(timespec="seconds") + "Z" if last else None)
    return jsonify(body), (200 if live else 503)
