"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi <command>`.

FLASK_CONFIG=development selects the local settings `make run` uses; unset means production,
where SECRET_KEY and the Stripe keys must come from the environment.
"""
import os

from chapter import create_app
from config import config_for

app = create_app(config_for(os.environ.get("FLASK_CONFIG")))
