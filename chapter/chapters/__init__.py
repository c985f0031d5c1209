"""Chapters: the public directory, rosters, and staff administration of districts and officers."""
from flask import Blueprint

bp = Blueprint("chapters", __name__)
