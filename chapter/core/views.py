"""Site-wide pages: the home page and the health check."""
import sqlalchemy as sa
from flask import jsonify, redirect, render_template, url_for
from flask_login import current_user

from chapter.core import bp
from chapter.extensions import db, limiter


@bp.get("/")
def home():
    """Members go to their dashboard; everyone else sees what the system offers."""
    if current_user.is_authenticated:
        return redirect(url_for("members.dashboard"))
    return render_template("core/home.html")


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Liveness and database check for load balancers and `make run`."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:  # any database failure means "not ready"
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503, {"Retry-After": "30"}
    return jsonify(status="ok", database="ok")
