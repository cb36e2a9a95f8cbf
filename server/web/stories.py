"""Stories: recent ones (optionally only blindspots, a day, or headline words), one story's full coverage, and its
HTML page."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..storyrows import StoryQuery, search_words
from . import newstilt, validate

bp = Blueprint("stories", __name__)

MAX_LIMIT = 100
MAX_OFFSET = 10_000


#: The query parameters of the story list (checked by ``validate``, documented from the same declarations).
LIST_QUERY = (
    validate.date_time("since", description="Only stories updated at or after this time"),
    validate.day("date", description="Only stories of this day (UTC)"),
    validate.choice("blindspot", ("left", "right", "any"), description="Only blindspots (for this side, or any)"),
    validate.text("q", description="Only stories whose headline has all these words"),
    validate.integer("limit", default=20, minimum=1, maximum=MAX_LIMIT),
    validate.integer("offset", default=0, minimum=0, maximum=MAX_OFFSET),
    validate.integer("min_sources", default=1, minimum=0, maximum=10_000,
                     description="Only stories covered by at least this many outlets"),
)


@bp.get("/api/v1/stories")
def list_view():
    """Recent stories, newest first: ``?since=ISO&date=YYYY-MM-DD&blindspot=left|right|any&q=words&limit=N&
    offset=N&min_sources=N``. One query; ``next_offset`` is null on the last page."""
    args = validate.read_query(LIST_QUERY)
    query = StoryQuery(since=args["since"], day=args["date"], blindspot=args["blindspot"],
                       min_sources=args["min_sources"], words=search_words(args["q"]), limit=args["limit"],
                       offset=args["offset"])
    items, more = newstilt().stories(query)
    return {"stories": items, "next_offset": args["offset"] + args["limit"] if more else None}


@bp.get("/api/v1/stories/<id:story_id>")
def detail(story_id: int):
    """One story: counts, summary, coverage details, framing by side, timeline, and every article by side."""
    return newstilt().story(story_id)


@bp.get("/stories/<id:story_id>")
def page(story_id: int):
    """The story's full coverage as a page (what the extension's "see full coverage" opens)."""
    return render_template("story.html", story=newstilt().story(story_id))
