"""Every error under /api/ (and /healthz) is JSON of one shape: ``{"error": {"code", "message"}}``; on the
HTML pages an error is a page saying what went wrong (with the same status)."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from .. import errors

LOGGER = logging.getLogger(__name__)


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


#: The HTTP status of each domain error, most specific class first (``http_status`` walks the MRO).
STATUS = {
    errors.InvalidURLError: 400,
    errors.BadRequestError: 400,
    errors.RatingsImportError: 400,
    errors.ConfigError: 400,
    errors.BlockedAddressError: 400,
    errors.NotFoundError: 404,
    errors.FeedError: 422,
    errors.ExtractionError: 422,
    errors.TrainingDataError: 422,
    errors.FetchError: 502,
    errors.ModelError: 503,
    errors.StorageError: 503,
}


def http_status(exc: errors.NewstiltError) -> int:
    """The status code the API answers a domain error with (500 for one it does not know)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def register(app: Flask) -> None:
    @app.errorhandler(errors.NewstiltError)
    def domain_error(exc: errors.NewstiltError):
        status = http_status(exc)
        if status >= 500:
            LOGGER.error("%s on %s %s: %s", type(exc).__name__, request.method, request.path, exc)
        if not _wants_json():
            title = {400: "Bad request", 404: "Not found"}.get(status, "Something went wrong")
            return render_template("error.html", title=title, message=str(exc) or exc.code), status
        return error_body(exc.code, str(exc) or exc.code), status

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
