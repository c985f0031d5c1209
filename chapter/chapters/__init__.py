"""Chapters: the public directory, rosters, and staff administration of districts and officers."""
from flask import Blueprint

# cli_group=None: the blueprint's commands sit at the top level (`flask --app wsgi roster import ...`).
bp = Blueprint("chapters", __name__, cli_group=None)

from chapter.chapters import cli  # noqa: E402,F401  (registers the commands; imports nothing else at load)
