"""Chapter minimum standards: the yearly standards page, roster reviews, the president's report, its review."""
from flask import Blueprint

bp = Blueprint("standards", __name__)
