"""Configuration read from the environment. Nothing secret has a production default.

The environment may come from an env file: `CHAPTER_ENV_FILE` names it, else `instance/.env` is read
when it exists. Variables already set in the environment win over the file, so the web server, every
`flask --app wsgi ...` command and cron all see the same settings.
"""
import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigurationError(RuntimeError):
    """A setting is missing or unusable: the app refuses to start, saying which and how to fix it."""


def env_file_path() -> Path | None:
    """The env file this process reads: CHAPTER_ENV_FILE, else instance/.env when it exists."""
    named = os.environ.get("CHAPTER_ENV_FILE")
    if named:
        return Path(named)
    default = INSTANCE_DIR / ".env"
    return default if default.is_file() else None


def load_env_file() -> Path | None:
    """Read the env file into os.environ (without overriding what is set); returns its path."""
    path = env_file_path()
    if path is None:
        return None
    if not path.is_file():
        raise ConfigurationError(f"CHAPTER_ENV_FILE names {path}, which is not a readable file.")
    load_dotenv(path, override=False)
    return path


ENV_FILE = load_env_file()


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}.") from None


def _env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


class Config:
    """Production settings: every secret must come from the environment."""

    # production, development or testing: destructive commands and demo data need a non-production one.
    ENVIRONMENT = "production"

    PRODUCTION = True  # PUBLIC_BASE_URL required, Host headers checked, HSTS sent
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Rotating SECRET_KEY: put the old key here (comma-separated) so log-in sessions signed with it survive.
    SECRET_KEY_FALLBACKS = [key.strip() for key in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()]
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'chapter.sqlite'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE")  # None means api.stripe.com
    STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
    # Every Stripe call ends within timeout x (retries + 1) plus back-off; a pay request makes at most
    # three, which must end inside the web worker's time-out: run gunicorn with --timeout 90.
    STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "10"))
    STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "1"))
    WEB_WORKER_TIMEOUT_SECONDS = 90  # gunicorn --timeout (README, "Deploying")

    # Production requires MAIL_SERVER (create_app refuses to start without it); development without
    # it writes mail to the console and instance/outbox/.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_REQUIRE_SERVER = True
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"   # STARTTLS on a plain port (587)
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "0") == "1"   # implicit TLS (465)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_TLS_CA_FILE = os.environ.get("MAIL_TLS_CA_FILE")  # a private CA's certificate; default: the system's
    MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 10)
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 8)  # then the mail is dead (staff see it on /admin/jobs)
    MAIL_RETRY_BASE_SECONDS = _env_int("MAIL_RETRY_BASE_SECONDS", 30)  # 30 s, 2 min, 8 min, ... at most 4 h
    MAIL_LEASE_SECONDS = _env_int("MAIL_LEASE_SECONDS", 120)  # a worker killed mid-send: sent again after this
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Chapter <no-reply@chapter.local>")
    MAIL_OUTBOX_DIR = str(INSTANCE_DIR / "outbox")
    # Every link in every mail is built on this address, never on the request's Host header.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")  # required in production
    # Host headers the app answers in production (PUBLIC_BASE_URL's host is always one); others get 400.
    TRUSTED_HOSTS_EXTRA = _env_list("TRUSTED_HOSTS")
    # How many reverse proxies stand in front of the app and set X-Forwarded-For/-Proto/-Host.
    # 0 (the default) trusts no such header: a client could otherwise pick its own address.
    PROXY_COUNT = _env_int("PROXY_COUNT", 0)

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # The job queue (Huey): Redis shared by every web process and worker in production.
    JOBS_URL = os.environ.get("JOBS_URL", "redis://127.0.0.1:6379/1")
    # Lock-out per (e-mail address, client address) after repeated failed log-ins (in the database, so it holds
    # across app processes); the per-address limit is Flask-Limiter's.
    # --- Limits (each settable from the environment under the same name) -------------------------
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_MINUTES = _env_int("LOGIN_LOCKOUT_MINUTES", 15)
    LOGIN_RATE_LIMIT = _env_str("LOGIN_RATE_LIMIT", "20 per minute")  # per address, Flask-Limiter syntax
    PASSWORD_RESET_MAX_AGE_SECONDS = _env_int("PASSWORD_RESET_MAX_AGE_SECONDS", 3600)
    ROSTER_PAGE_SIZE = _env_int("ROSTER_PAGE_SIZE", 50)
    CLAIM_LINK_MAX_AGE_SECONDS = 7 * 24 * 3600  # an invitation to claim an account lasts a week
    CLAIM_INVITE_RATE_LIMIT = "200 per hour"  # officers sending claim invitations, per officer
    CLAIM_INVITE_COOLDOWN_HOURS = 24  # one invitation per member a day, whoever sends it
    API_RATE_LIMIT = _env_str("API_RATE_LIMIT", "600 per minute")  # /api/v1, per token (per address without one)
    API_VERIFY_RATE_LIMIT = _env_str("API_VERIFY_RATE_LIMIT", "20 per hour")  # the API's certificate check
    # Events: a freed seat is offered to the first on the waitlist for this long; an unpaid registration
    # holds its seat for the payment window only (then the seat goes back, to the waitlist if any).
    EVENT_WAITLIST_OFFER_HOURS = _env_int("EVENT_WAITLIST_OFFER_HOURS", 48)
    EVENT_PAYMENT_WINDOW_MINUTES = _env_int("EVENT_PAYMENT_WINDOW_MINUTES", 30)

    # Request size: the largest legitimate upload is a roster CSV (chapters.imports.MAX_IMPORT_BYTES,
    # 20 MB) plus the form around it. Larger bodies are refused with 413 before they are read.
    MAX_CONTENT_LENGTH = 21 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
    WEBHOOK_MAX_BYTES = 512 * 1024  # Stripe's events are far smaller; anything larger is refused unread
    HSTS_SECONDS = 365 * 24 * 3600

    # --- Operations: backups ------------------------------------------------------------------------
    BACKUP_DIR = os.environ.get("BACKUP_DIR") or str(INSTANCE_DIR / "backups")
    BACKUP_KEEP = _env_int("BACKUP_KEEP", 14)  # `flask --app wsgi backup` deletes older ones
    PG_DUMP = _env_str("PG_DUMP", "pg_dump")  # its major version must be at least the server's
    PG_RESTORE = _env_str("PG_RESTORE", "pg_restore")
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


class DevelopmentConfig(Config):
    """`make run`: the embedded SQLite database, localstripe, mail to the outbox folder."""

    ENVIRONMENT = "development"

    PRODUCTION = False
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "sk_test_localstripe")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_localstripe")
    STRIPE_API_BASE = os.environ.get(
        "STRIPE_API_BASE", None if os.environ.get("STRIPE_SECRET_KEY") else "http://127.0.0.1:8420"
    )
    STRIPE_JS_URL = os.environ.get(
        "STRIPE_JS_URL",
        "https://js.stripe.com/v3/"
        if os.environ.get("STRIPE_SECRET_KEY")
        else "http://localhost:8420/js.stripe.com/v3/",
    )
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    MAIL_REQUIRE_SERVER = False
    JOBS_URL = os.environ.get("JOBS_URL", f"sqlite:///{INSTANCE_DIR / 'jobs.sqlite'}")  # embedded, no server


class TestConfig(DevelopmentConfig):
    """pytest: the database URL is set by the fixtures."""

    TESTING = True
    ENVIRONMENT = "testing"
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = True
    MAIL_SERVER = None
    JOBS_URL = "memory://"  # tests/conftest.py gives each run a SQLite queue file that worker processes share
    RATELIMIT_STORAGE_URI = "memory://"
    STRIPE_API_BASE = None
    STRIPE_WEBHOOK_SECRET = "whsec_test_secret"


def config_for(name: str | None) -> type[Config]:
    """The configuration class for FLASK_CONFIG (production when unset)."""
    return {"development": DevelopmentConfig, "testing": TestConfig}.get(name or "", Config)
