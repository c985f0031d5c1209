"""Chapter health: members by status, renewals, members in and out, events and messages, month by month."""
from flask import Blueprint

bp = Blueprint("health", __name__)
