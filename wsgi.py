"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi <command>`.

FLASK_CONFIG=development selects the local settings `make run` uses; unset means production,
where SECRET_KEY and the Stripe keys must come from the environment or the env file
(instance/.env, or the file CHAPTER_ENV_FILE names; see config.py).
"""
import os
import sys

try:
    import config
    from chapter import create_app

    app = create_app(config.config_for(os.environ.get("FLASK_CONFIG")))
except RuntimeError as error:
    # config.ConfigurationError (also raised while config.py itself loads, hence the name test):
    # one line an operator can act on instead of a traceback, under gunicorn, flask and cron alike.
    if type(error).__name__ != "ConfigurationError":
        raise
    print(f"chapter: configuration error: {error}", file=sys.stderr)
    # Exit status 4 is gunicorn's "app failed to load": the master stops instead of restarting
    # workers that cannot start, forever. flask commands and cron see a non-zero exit as well.
    sys.exit(4)
