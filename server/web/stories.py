"""Stories: recent ones (optionally only blindspots), one story's full coverage, and its HTML page."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template, request

from ..errors import BadRequestError
from . import newstilt

bp = Blueprint("stories", __name__)

MAX_LIMIT = 100


def _since(value: str | None):
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"'since' must be an ISO 8601 date or time, not {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _limit(value: str | None) -> int:
    if value is None:
        return 20
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise BadRequestError(f"'limit' must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


@bp.get("/api/v1/stories")
def list_view():
    """Recent stories, newest first: ``?since=ISO&blindspot=left|right&limit=N&min_sources=N``."""
    args = request.args
    blindspot = args.get("blindspot")
    if blindspot not in (None, "left", "right"):
        raise BadRequestError("'blindspot' must be left or right")
    min_sources = args.get("min_sources", "1")
    if not min_sources.isdigit():
        raise BadRequestError("'min_sources' must be a whole number")
    items = newstilt().list_stories(since=_since(args.get("since")), blindspot=blindspot,
                                    limit=_limit(args.get("limit")), min_sources=int(min_sources))
    return {"stories": items}


@bp.get("/api/v1/stories/<int:story_id>")
def detail(story_id: int):
    """One story: distribution, blindspot, and every article grouped by side."""
    return newstilt().story(story_id)


@bp.get("/stories/<int:story_id>")
def page(story_id: int):
    """The story's full coverage as a page: distribution bar, articles by side, outlet ratings."""
    return render_template("story.html", story=newstilt().story(story_id))
