"""Chapter events: meetings, plant tours, webinars and review courses; registration, waitlists, refunds."""
from flask import Blueprint

bp = Blueprint("events", __name__)


@bp.app_template_global("event_time")
def event_time(utc, tz_name):
    """A stored (UTC) time in an event's zone, for any template (the chapter page lists events)."""
    from chapter.events.times import format_local

    return format_local(utc, tz_name)
