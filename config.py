"""Configuration read from the environment. Nothing secret has a production default."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


class Config:
    """Production settings: every secret must come from the environment."""

    PRODUCTION = True  # PUBLIC_BASE_URL required, Host headers checked, HSTS sent
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'chapter.sqlite'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE")  # None means api.stripe.com
    STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")

    MAIL_SERVER = os.environ.get("MAIL_SERVER")  # unset: mail goes to the console and instance/outbox/
    MAIL_PORT = _env_int("MAIL_PORT", 25)
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
    # Per-account lock-out after repeated failed log-ins (kept in the database, so it holds
    # across app processes); the per-address limit is Flask-Limiter's.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    LOGIN_RATE_LIMIT = "20 per minute"
    PASSWORD_RESET_MAX_AGE_SECONDS = 3600
    CLAIM_LINK_MAX_AGE_SECONDS = 7 * 24 * 3600  # an invitation to claim an account lasts a week
    CLAIM_INVITE_RATE_LIMIT = "200 per hour"  # officers sending claim invitations, per officer
    CLAIM_INVITE_COOLDOWN_HOURS = 24  # one invitation per member a day, whoever sends it

    # Request size: the largest legitimate upload is a roster CSV (chapters.imports.MAX_IMPORT_BYTES,
    # 20 MB) plus the form around it. Larger bodies are refused with 413 before they are read.
    MAX_CONTENT_LENGTH = 21 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
    WEBHOOK_MAX_BYTES = 512 * 1024  # Stripe's events are far smaller; anything larger is refused unread
    HSTS_SECONDS = 365 * 24 * 3600

    ROSTER_PAGE_SIZE = 50
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


class DevelopmentConfig(Config):
    """`make run`: the embedded SQLite database, localstripe, mail to the outbox folder."""

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


class TestConfig(DevelopmentConfig):
    """pytest: the database URL is set by the fixtures."""

    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = True
    MAIL_SERVER = None
    RATELIMIT_STORAGE_URI = "memory://"
    STRIPE_API_BASE = None
    STRIPE_WEBHOOK_SECRET = "whsec_test_secret"


def config_for(name: str | None) -> type[Config]:
    """The configuration class for FLASK_CONFIG (production when unset)."""
    return {"development": DevelopmentConfig, "testing": TestConfig}.get(name or "", Config)
