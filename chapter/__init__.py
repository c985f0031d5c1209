"""The chapter membership application: create_app builds it."""
from __future__ import annotations

import functools
from pathlib import Path

from flask import Flask

from config import BASE_DIR, Config, ConfigurationError, config_for

__version__ = "0.1.0"


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers, CLI."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_object(config_class or config_for(None))
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise ConfigurationError(
            "SECRET_KEY is not set. Set it in the environment or the env file (instance/.env, or the file "
            "CHAPTER_ENV_FILE names), or use FLASK_CONFIG=development (what `make run` does) for a local, "
            "non-secret one."
        )
    if app.config.get("MAIL_REQUIRE_SERVER") and not app.config.get("MAIL_SERVER"):
        raise ConfigurationError(
            "MAIL_SERVER is not set. Production delivers mail by SMTP: set MAIL_SERVER (and MAIL_PORT, "
            "MAIL_USE_TLS or MAIL_USE_SSL, MAIL_USERNAME, MAIL_PASSWORD as your provider needs), or use "
            "FLASK_CONFIG=development, where mail is written to instance/outbox/."
        )
    if app.config.get("PRODUCTION") and not app.config.get("PUBLIC_BASE_URL"):
        raise ConfigurationError(
            "PUBLIC_BASE_URL is not set. Set it to the site's address (e.g. https://members.example.org): "
            "every link in mail is built on it, never on a request's Host header."
        )
    from chapter.core.links import trusted_hosts
    from chapter.core.security import init_security

    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _refuse_new_sqlite_in_production(app)

    init_security(app)
    _postgresql_engine_options(app)
    _init_extensions(app)
    # Before any route is added: an id in a URL larger than the database's INTEGER is no page (404), not a 500.
    from chapter.core.security import DatabaseIntegerConverter

    app.url_map.converters["int"] = DatabaseIntegerConverter
    _register_blueprints(app)

    from chapter.core.errors_views import register_error_handlers
    from chapter.core.templating import register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)
    _register_cli(app)

    from chapter.jobs import queue, tasks  # noqa: F401  (every task registered before anything is queued)

    queue.bind(app)
    return app


def _refuse_new_sqlite_in_production(app: Flask) -> None:
    """Production never creates an empty SQLite database (a missing DATABASE_URL, e.g. under cron)."""
    if app.config.get("ENVIRONMENT", "production") != "production":
        return
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        return
    # An in-memory database creates no file (tests of production settings use one); a missing file would.
    if url.database and url.database != ":memory:" and not Path(url.database).is_file():
        raise ConfigurationError(
            f"No database at {url.database or 'memory'}: production settings do not create an empty SQLite "
            "database. Set DATABASE_URL (in the environment or the env file instance/.env, or the file "
            "CHAPTER_ENV_FILE names), or FLASK_CONFIG=development for a local one."
        )


def _uses_postgresql(app: Flask) -> bool:
    """Whether the app's database is PostgreSQL (its engine gets the options and listeners below)."""
    return str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith(("postgresql", "postgres"))


def _postgresql_engine_options(app: Flask) -> None:
    """PostgreSQL's engine: JIT off, and no pre-ping round trip (see also _init_extensions).

    PostgreSQL compiles a query's plan to machine code (JIT) once its estimated cost passes 100,000:
    the roster's status counts (subplans per member) cross it and spent 100-300 ms compiling for 2 ms of
    work. The app's queries are short: JIT off for its connections."""
    if not _uses_postgresql(app):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args["options"] = " ".join(filter(None, [connect_args.get("options"), "-c jit=off"]))
    options["connect_args"] = connect_args
    # Connections are checked on checkout without a round trip (chapter/core/liveness.py, after db.init_app).
    options["pool_pre_ping"] = False
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@functools.cache
def _session_user_statement(dialect: str):
    """SELECT of a session's user with their member record and today's roles (built once a dialect; see load_user)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import joinedload

    from chapter.auth.models import User
    from chapter.core.permissions import roles_with_user_columns

    roles = roles_with_user_columns(User.id, sa.bindparam("day", type_=sa.Date), dialect)
    return sa.select(User, *roles).options(joinedload(User.member)).where(User.id == sa.bindparam("user_id"))


def _init_extensions(app: Flask) -> None:
    from chapter import models  # noqa: F401  (every model known to Alembic and the session)
    from chapter.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    if _uses_postgresql(app):
        from chapter.core import liveness, pgdriver

        with app.app_context():
            liveness.check_on_checkout(db.engine)  # instead of pool_pre_ping's round trip
            pgdriver.connect_with(db.engine)  # statements stay prepared; results described on demand
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str):
        """The user of a session "<id>.<session version>"; an older version is a revoked session."""
        from flask import has_request_context, request

        from chapter.core.models import today
        from chapter.core.params import db_int
        from chapter.core.permissions import LOADED_ROLES_KEY

        user_text, _, version = (session_id or "").partition(".")
        user_id = db_int(user_text)
        if user_id is None or not version.isdigit():
            return None
        # The member record and today's roles come with the user: every page's menu asks for them (one query,
        # not three). The statement is built once: this runs on every logged-in request.
        day = today()
        statement = _session_user_statement(db.engine.dialect.name)
        row = db.session.execute(statement, {"user_id": user_id, "day": day}).one_or_none()
        if row is None or row[0].session_version != int(version):
            return None
        user, positions, districts = row
        if has_request_context():
            request.environ[LOADED_ROLES_KEY] = (user.id, day, positions, districts)
        return user


def _register_blueprints(app: Flask) -> None:
    # Views are imported here, not in each package's __init__, so services can import each other
    # without pulling in view modules (and their imports) first.
    from chapter.auth import views as _auth_views  # noqa: F401
    from chapter.chapters import views as _chapters_views  # noqa: F401
    from chapter.core import views as _core_views  # noqa: F401
    from chapter.members import views as _members_views  # noqa: F401
    from chapter.members import corporate_views as _corporate_views  # noqa: F401
    from chapter.payments import views as _payments_views  # noqa: F401
    from chapter.certifications import views as _certifications_views  # noqa: F401
    from chapter.treasury import views as _treasury_views  # noqa: F401
    from chapter.auth import bp as auth_bp
    from chapter.chapters import bp as chapters_bp
    from chapter.core import bp as core_bp
    from chapter.members import bp as members_bp
    from chapter.payments import bp as payments_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(members_bp)
    app.register_blueprint(chapters_bp)
    app.register_blueprint(payments_bp)
    from chapter.certifications import bp as certifications_bp

    app.register_blueprint(certifications_bp)
    from chapter.treasury import bp as treasury_bp

    app.register_blueprint(treasury_bp)
    from chapter.jobs import views as _jobs_views  # noqa: F401
    from chapter.jobs import bp as jobs_bp

    app.register_blueprint(jobs_bp)
    from chapter.api import init_api

    init_api(app)
    from chapter.health import views as _health_views  # noqa: F401
    from chapter.health import bp as health_bp
    from chapter.standards import admin_views as _standards_admin_views  # noqa: F401
    from chapter.standards import views as _standards_views  # noqa: F401
    from chapter.standards import bp as standards_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(standards_bp)
    from chapter.events import views as _events_views  # noqa: F401
    from chapter.events import door_views as _events_door_views  # noqa: F401  (part B: the door, attendance)
    from chapter.events import ticket_views as _events_ticket_views  # noqa: F401  (tickets, calendars, certificates)
    from chapter.events import bp as events_bp

    app.register_blueprint(events_bp)
    from chapter.outgoing import views as _outgoing_views  # noqa: F401  (also subscribes the webhook deliveries)
    from chapter.outgoing import bp as outgoing_bp

    app.register_blueprint(outgoing_bp)
    from chapter.communications import preferences_views as _preferences_views  # noqa: F401
    from chapter.communications import views as _communications_views  # noqa: F401
    from chapter.communications import bp as communications_bp

    app.register_blueprint(communications_bp)
    from chapter.payments import fulfilment

    fulfilment.register_all()  # each feature registers what paying for its orders does


def _register_cli(app: Flask) -> None:
    from chapter.seed.cli import register_seed_commands

    register_seed_commands(app)
    from chapter.auth.cli import register_user_commands

    register_user_commands(app)
    from chapter.core.backup import register_backup_commands

    register_backup_commands(app)
    from chapter.payments.cli import register_payment_commands

    register_payment_commands(app)
    from chapter.members.cli import register_member_commands

    register_member_commands(app)
    from chapter.jobs.cli import register_jobs_commands

    register_jobs_commands(app)
