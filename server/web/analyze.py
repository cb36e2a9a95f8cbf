"""``POST /api/v1/analyze``: the outlet, the article and its story for the page a reader is on."""
from __future__ import annotations

from flask import Blueprint, request

from ..errors import BadRequestError
from . import newstilt

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
    return newstilt().analyze(body.get("url"), html=body.get("html"), title=body.get("title"))


@bp.post("/api/v1/score")
def score_view():
    """Body ``{"title": ..., "text": ...}``: the article scorer's lean, or ``model: null`` with a reason."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequestError("the body must be a JSON object with a 'title' and/or a 'text'")
    title, text = body.get("title", ""), body.get("text", "")
    if not isinstance(title, str) or not isinstance(text, str):
        raise BadRequestError("'title' and 'text' must be strings")
    if not title.strip() and not text.strip():
        raise BadRequestError("give a 'title' or a 'text' to score")
    return newstilt().score(title, text)
