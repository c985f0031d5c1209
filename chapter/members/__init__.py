"""Members: dashboard, profile, home chapter; staff administration of membership types."""
from flask import Blueprint

bp = Blueprint("members", __name__)
