"""``POST /api/v1/analyze``: the outlet, the article and its story for the page a reader is on."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from ..analysis import analyze
from ..errors import BadRequestError

bp = Blueprint("analyze", __name__)


@bp.post("/api/v1/analyze")
def analyze_view():
    """Body ``{"url": ..., "html": optional page HTML, "title": optional}``; bodies over the limit get a 413."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequestError("the body must be a JSON object with a 'url'")
    for name in ("html", "title"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise BadRequestError(f"'{name}' must be a string")
    services = current_app.extensions["newstilt"]
    return analyze(services, body.get("url"), html=body.get("html"), title=body.get("title"))
