"""Every error under /api/ (and /healthz) is JSON of one shape: ``{"error": {"code", "message"}}``."""
from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from ..errors import NewstiltError

LOGGER = logging.getLogger(__name__)


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def register(app: Flask) -> None:
    @app.errorhandler(NewstiltError)
    def domain_error(exc: NewstiltError):
        return error_body(exc.code, str(exc) or exc.code), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not _wants_json():
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        response = exc.get_response()
        response.data = app.json.dumps(error_body(code, exc.description or exc.name))
        response.content_type = "application/json"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        LOGGER.exception("unhandled error on %s %s", request.method, request.path)
        message = f"{type(exc).__name__}: {exc}" if app.debug else "internal server error"
        return error_body("internal_error", message), 500
