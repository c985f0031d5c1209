"""Background work: the job queue (Huey), the mail outbox, periodic tasks, the staff jobs page.

How to add a job: see `chapter/jobs/tasks.py` and docs/jobs.md.
"""
from flask import Blueprint

bp = Blueprint("jobs", __name__)
