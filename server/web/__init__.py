"""The web app at the edge: the Flask factory, one blueprint per resource, templates, and the mapping of the
domain's errors to HTTP. ``create_app`` reads like a table of contents; nothing happens at import time."""
from __future__ import annotations

from flask import Flask

from .. import __version__  # noqa: F401 - re-exported for templates and blueprints


def create_app(test_config: dict | None = None) -> Flask:
    """The application factory: defaults, then ``NEWSTILT_*`` environment variables, then ``test_config``."""
    from ..config import Settings

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
    from ..services import Services

    app.extensions["newstilt"] = Services(app.config)


def register_blueprints(app: Flask) -> None:
    from . import analyze, health, openapi, pages, sources, stories

    app.register_blueprint(health.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(stories.bp)
    app.register_blueprint(analyze.bp)


def register_errorhandlers(app: Flask) -> None:
    from .errors import register

    register(app)
