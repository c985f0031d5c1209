"""Certifications: exam catalogue, authorizations to test, results, certifications, maintenance points."""
from flask import Blueprint

bp = Blueprint("certifications", __name__)
