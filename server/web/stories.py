"""Stories: recent ones (optionally only blindspots, a day, or headline words), one story's full coverage, and its
HTML page."""
from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, render_template, request

from ..errors import BadRequestError
from ..storyrows import StoryQuery, search_words
from . import newstilt

bp = Blueprint("stories", __name__)

MAX_LIMIT = 100
MAX_OFFSET = 10_000


def _since(value: str | None):
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"'since' must be an ISO 8601 date or time, not {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_day(value: str | None) -> datetime | None:
    """A ``YYYY-MM-DD`` day as the UTC midnight it starts at (None when absent)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadRequestError(f"'date' must be a day as YYYY-MM-DD, not {value!r}") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _whole(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadRequestError(f"'{name}' must be a whole number from {low} to {high}")
    return int(value)


@bp.get("/api/v1/stories")
def list_view():
    """Recent stories, newest first: ``?since=ISO&date=YYYY-MM-DD&blindspot=left|right|any&q=words&limit=N&
    offset=N&min_sources=N``. One query; ``next_offset`` is null on the last page."""
    args = request.args
    blindspot = args.get("blindspot")
    if blindspot not in (None, "left", "right", "any"):
        raise BadRequestError("'blindspot' must be left, right or any")
    min_sources = args.get("min_sources", "1")
    if not min_sources.isdigit():
        raise BadRequestError("'min_sources' must be a whole number")
    limit = _whole("limit", args.get("limit"), 20, 1, MAX_LIMIT)
    offset = _whole("offset", args.get("offset"), 0, 0, MAX_OFFSET)
    query = StoryQuery(since=_since(args.get("since")), day=parse_day(args.get("date")), blindspot=blindspot,
                       min_sources=int(min_sources), words=search_words(args.get("q")), limit=limit, offset=offset)
    items, more = newstilt().stories(query)
    return {"stories": items, "next_offset": offset + limit if more else None}


@bp.get("/api/v1/stories/<int:story_id>")
def detail(story_id: int):
    """One story: counts, summary, coverage details, framing by side, timeline, and every article by side."""
    return newstilt().story(story_id)


@bp.get("/stories/<int:story_id>")
def page(story_id: int):
    """The story's full coverage as a page (what the extension's "see full coverage" opens)."""
    return render_template("story.html", story=newstilt().story(story_id))
