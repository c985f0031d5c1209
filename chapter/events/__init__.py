"""Chapter events: meetings, plant tours, webinars and review courses; registration, waitlists, refunds."""
from flask import Blueprint

bp = Blueprint("events", __name__)
