"""The web app at the edge: the Flask factory, one blueprint per resource, templates, and the mapping of the
domain's errors to HTTP. ``create_app`` reads like a table of contents; nothing happens at import time.

The app holds one :class:`~newstilt.core.Newstilt` in ``app.extensions["newstilt"]`` and every view calls it.
"""
from __future__ import annotations

from flask import Flask, current_app

from ..config import Settings
from ..core import Newstilt


def create_app(newstilt: Newstilt | Settings | None = None, *, testing: bool = False) -> Flask:
    """The application factory, from a ``Newstilt`` (or the ``Settings`` to build one; default: the environment)."""
    if not isinstance(newstilt, Newstilt):
        newstilt = Newstilt(newstilt or Settings.from_env())
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(TESTING=testing, MAX_CONTENT_LENGTH=newstilt.settings.max_body_bytes)
    app.json.sort_keys = False

    register_extensions(app, newstilt)
    register_converters(app)
    register_security(app, newstilt.settings)
    register_blueprints(app)
    register_errorhandlers(app)
    return app


def register_extensions(app: Flask, newstilt: Newstilt) -> None:
    app.extensions["newstilt"] = newstilt


def register_converters(app: Flask) -> None:
    from .validate import IdConverter

    app.url_map.converters["id"] = IdConverter


def register_security(app: Flask, settings: Settings) -> None:
    from . import security

    security.register(app, settings)


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


def newstilt() -> Newstilt:
    """The facade of the app handling the current request."""
    return current_app.extensions["newstilt"]
