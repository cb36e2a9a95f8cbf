"""Human-readable pages: the latest stories, blindspots, an outlet's page, search, and the ratings methodology.

Server-rendered Jinja with autoescaping, no script at all (the pages work with a strict Content-Security-Policy:
styles come from ``/static/newstilt.css``, the distribution bars are SVG). Every list is paginated with
``?page=N`` and read with one query (``newstilt.storyrows``).
"""
from __future__ import annotations

import re
from importlib import resources
from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for
from markdown_it import MarkdownIt
from markupsafe import Markup

from .. import __version__
from ..storyrows import StoryQuery, search_words
from . import newstilt, validate

bp = Blueprint("pages", __name__)

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_ALIGN = re.compile(r'style="text-align:(left|right|center)"')
PAGE_SIZE = 20
MAX_PAGE = 500


@bp.app_template_filter("web_url")
def web_url(value) -> str:
    """An http(s) URL from the data as a link target; anything else (``javascript:``...) becomes ``#``."""
    text = str(value or "")
    return text if text.lower().startswith(("http://", "https://")) else "#"


@bp.app_template_filter("day")
def day(value) -> str:
    """``YYYY-MM-DD`` of an ISO timestamp (empty for none)."""
    return str(value)[:10] if value else ""


PAGE = validate.integer("page", default=1, minimum=1, maximum=MAX_PAGE)
DAY = validate.day("date")
SIDE = validate.choice("side", ("left", "right"))
WORDS = validate.text("q")


def _page() -> int:
    return validate.read_query((PAGE,))["page"]


def _pager(page: int, more: bool, **params) -> dict:
    """Links to the previous and next page, keeping the other query parameters."""
    keep = {k: v for k, v in params.items() if v}

    def link(n):
        return f"{request.path}?{urlencode({**keep, 'page': n})}" if n > 1 else \
            (f"{request.path}?{urlencode(keep)}" if keep else request.path)
    return {"page": page, "previous": link(page - 1) if page > 1 else None, "next": link(page + 1) if more else None}


@bp.get("/")
def index():
    """The latest stories, with their distribution and sources; ``?date=YYYY-MM-DD`` for one day's."""
    page, day_start = _page(), validate.read_query((DAY,))["date"]
    date_text = day_start.date().isoformat() if day_start else ""
    stories, more = newstilt().stories(StoryQuery(day=day_start, min_sources=2, limit=PAGE_SIZE,
                                                  offset=(page - 1) * PAGE_SIZE))
    return render_template("index.html", version=__version__, stories=stories, date=date_text,
                           pager=_pager(page, more, date=date_text))


@bp.get("/blindspot")
def blindspot():
    """Stories covered overwhelmingly by one side, for each side; ``?side=left|right`` pages through one."""
    side, page = validate.read_query((SIDE,))["side"], _page()
    sides = [side] if side else ["left", "right"]
    size = PAGE_SIZE if side else 10
    columns = {}
    for name in sides:
        items, more = newstilt().stories(StoryQuery(blindspot=name, limit=size, offset=(page - 1) * size))
        columns[name] = {"stories": items, "more": more,
                         "pager": _pager(page, more, side=name) if side else None,
                         "all": url_for("pages.blindspot", side=name)}
    return render_template("blindspot.html", columns=columns, side=side, rule=newstilt().blindspot_rule)


@bp.get("/search")
def search():
    """Stories whose headlines hold every word of ``?q=``."""
    text = (validate.read_query((WORDS,))["q"] or "").strip()
    words, page = search_words(text), _page()
    stories, more = ([], False) if not words else newstilt().stories(
        StoryQuery(words=words, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE))
    return render_template("search.html", q=text, words=words, stories=stories, pager=_pager(page, more, q=text))


@bp.get("/sources/<path:domain>")
def source(domain: str):
    """An outlet: each rater's values, factuality, ownership and owner, country, language, questionable flags,
    its recent articles and how often its stories are blindspots."""
    page = _page()
    info = newstilt().source(domain.lower().strip("/"), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("source.html", info=info, pager=_pager(page, info["more"]))


@bp.get("/about")
def about():
    """What this server is, and where its API lives."""
    return render_template("about.html", version=__version__, outlets=len(newstilt().index().outlets))


@bp.get("/methodology")
def methodology():
    """How the bundled ratings were chosen and how raters are combined (METHODOLOGY.md, rendered)."""
    text = resources.files("newstilt").joinpath("data/METHODOLOGY.md").read_text(encoding="utf-8")
    # table alignment as a class, not an inline style (the pages carry no inline style for the CSP)
    body = _ALIGN.sub(r'class="align-\1"', _MARKDOWN.render(text))
    return render_template("document.html", title="Ratings methodology", body=Markup(body))
