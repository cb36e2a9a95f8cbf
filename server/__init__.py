"""newstilt: a self-hosted news bias and coverage service.

``create_app`` builds the Flask app. Nothing happens at import time: no database connection, no model loading,
no network. Long-lived objects live in ``app.extensions["newstilt"]``.
"""
from __future__ import annotations

from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: dict | None = None) -> Flask:
    """The application factory: defaults, then ``NEWSTILT_*`` environment variables, then ``test_config``."""
    from .config import Settings

    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(Settings.from_env().flask_config())
    app.config.from_prefixed_env("NEWSTILT")
    if test_config:
        app.config.from_mapping(test_config)
    app.json.sort_keys = False

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    return app


def register_extensions(app: Flask) -> None:
    from .services import Services

    app.extensions["newstilt"] = Services(app.config)


def register_blueprints(app: Flask) -> None:
    from .api import analyze, health, openapi, pages, sources, stories

    app.register_blueprint(health.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(stories.bp)
    app.register_blueprint(analyze.bp)


def register_errorhandlers(app: Flask) -> None:
    from .api.errors import register

    register(app)
