"""Outlet ratings: the whole table for the extension's cache, and single lookups."""
from __future__ import annotations

from flask import Blueprint, Response, request

from ..ratings import dumps_table
from . import newstilt, validate

bp = Blueprint("sources", __name__, url_prefix="/api/v1/sources")

LOOKUP_QUERY = (validate.url("url", description="The page's URL (http or https)"),)


def _ratings():
    return newstilt().index()


@bp.get("")
def list_sources():
    """Every rated outlet, with each rater's values; ``ETag`` / ``If-None-Match`` give a 304 when unchanged."""
    index = _ratings()
    if index.version in request.if_none_match:  # the extension's periodic check: no 1.4 MB body to build
        response = Response(status=304)
    else:
        response = Response(dumps_table(index), mimetype="application/json")
    response.set_etag(index.version)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/lookup")
def lookup():
    """The outlet a URL belongs to (``?url=``), and which key matched it; 404 for unrated sites."""
    url = validate.read_query(LOOKUP_QUERY)["url"]
    return Response(newstilt().lookup_json(url), mimetype="application/json")
