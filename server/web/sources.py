"""Outlet ratings: the whole table for the extension's cache, and single lookups."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ..memo import LRU
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


#: Lookup answers kept per app, by ratings version and raw query string.
LOOKUP_MEMO_SIZE = 8192


@bp.record_once
def _memo(state) -> None:
    state.app.extensions["newstilt.lookups"] = LRU(LOOKUP_MEMO_SIZE)


@bp.get("/lookup")
def lookup():
    """The outlet a URL belongs to (``?url=``), and which key matched it; 404 for unrated sites.

    The same query string gets the same answer while the ratings are the same, and the extension asks on
    every page a reader opens: answers are kept by the raw query string, so a repeated lookup is not even
    parsed again (parsing the query was the largest part of a lookup's own cost)."""
    nt = newstilt()
    key = (nt.index().version, request.query_string)
    memo = current_app.extensions["newstilt.lookups"]
    body = memo.get(key)
    if body is None:
        body = nt.lookup_json(validate.read_query(LOOKUP_QUERY)["url"])  # unrated sites raise: not kept
        memo.put(key, body)
    return Response(body, mimetype="application/json")
