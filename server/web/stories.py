"""Stories: recent ones (optionally only blindspots), one story's full coverage, and its HTML page."""
from __future__ import annotations

from flask import Blueprint, render_template

from . import newstilt, validate

bp = Blueprint("stories", __name__)

MAX_LIMIT = 100


#: The query parameters of the story list (checked by ``validate``, documented from the same declarations).
LIST_QUERY = (
    validate.date_time("since", description="Only stories updated at or after this time"),
    validate.choice("blindspot", ("left", "right"), description="Only blindspots for this side"),
    validate.integer("limit", default=20, minimum=1, maximum=MAX_LIMIT),
    validate.integer("min_sources", default=1, minimum=0, maximum=10_000,
                     description="Only stories covered by at least this many outlets"),
)


@bp.get("/api/v1/stories")
def list_view():
    """Recent stories, newest first: ``?since=ISO&blindspot=left|right&limit=N&min_sources=N``."""
    return {"stories": newstilt().list_stories(**validate.read_query(LIST_QUERY))}


@bp.get("/api/v1/stories/<id:story_id>")
def detail(story_id: int):
    """One story: distribution, blindspot, and every article grouped by side."""
    return newstilt().story(story_id)


@bp.get("/stories/<id:story_id>")
def page(story_id: int):
    """The story's full coverage as a page: distribution bar, articles by side, outlet ratings."""
    return render_template("story.html", story=newstilt().story(story_id))
