"""Shared pieces and the site-wide pages: home, health check."""
from flask import Blueprint

bp = Blueprint("core", __name__)
