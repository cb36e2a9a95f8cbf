"""Outlet ratings: the whole table for the extension's cache, and single lookups."""
from __future__ import annotations

from flask import Blueprint, Response, request

from ..errors import InvalidURLError
from ..ratings import dumps_table
from . import newstilt

bp = Blueprint("sources", __name__, url_prefix="/api/v1/sources")

MAX_QUERY_URL = 2048


def _ratings():
    return newstilt().index()


@bp.get("")
def list_sources():
    """Every rated outlet, with each rater's values; ``ETag`` / ``If-None-Match`` give a 304 when unchanged."""
    index = _ratings()
    response = Response(dumps_table(index), mimetype="application/json")
    response.set_etag(index.version)
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.get("/lookup")
def lookup():
    """The outlet a URL belongs to (``?url=``), and which key matched it; 404 for unrated sites."""
    url = request.args.get("url")
    if url is None:
        raise InvalidURLError("the 'url' query parameter is required")
    if len(url) > MAX_QUERY_URL:
        raise InvalidURLError(f"the URL is longer than {MAX_QUERY_URL} characters")
    index = _ratings()
    return index.match(url).to_dict(index.rater_names)
