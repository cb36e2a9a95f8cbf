"""``POST /api/v1/analyze``: the outlet, the article and its story for the page a reader is on."""
from __future__ import annotations

from flask import Blueprint, Response

from ..api_types import AnalyzeRequest, ScoreRequest
from ..errors import BadRequestError
from . import newstilt, validate

bp = Blueprint("analyze", __name__)


@bp.post("/api/v1/analyze")
def analyze_view():
    """Body ``{"url": ..., "html": optional page HTML, "title": optional}``; bodies over the limit get a 413."""
    body = validate.json_body(AnalyzeRequest)
    return Response(newstilt().analyze_json(body["url"], html=body.get("html"), title=body.get("title")),
                    mimetype="application/json")


@bp.post("/api/v1/score")
def score_view():
    """Body ``{"title": ..., "text": ...}``: the article scorer's lean, or ``model: null`` with a reason."""
    body = validate.json_body(ScoreRequest)
    title, text = body.get("title", ""), body.get("text", "")
    if not title.strip() and not text.strip():
        raise BadRequestError("give a 'title' or a 'text' to score")
    return newstilt().score(title, text)
