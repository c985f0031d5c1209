"""The chapter membership application: create_app builds it."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import BASE_DIR, Config, config_for

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
        raise RuntimeError(
            "SECRET_KEY is not set. Set it in the environment, or use FLASK_CONFIG=development "
            "(what `make run` does) for a local, non-secret one."
        )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)

    from chapter.core.errors_views import register_error_handlers
    from chapter.core.templating import register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from chapter import models  # noqa: F401  (every model known to Alembic and the session)
    from chapter.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        from chapter.auth.models import User

        from sqlalchemy.orm import joinedload

        # The member record comes with the user: every page's menu asks for it (one query, not two).
        return db.session.get(User, int(user_id), options=[joinedload(User.member)])


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


def _register_cli(app: Flask) -> None:
    from chapter.seed.cli import register_seed_commands

    register_seed_commands(app)
    from chapter.payments.cli import register_payment_commands

    register_payment_commands(app)
