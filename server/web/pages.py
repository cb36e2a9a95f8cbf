"""Human-readable pages: the front page and the ratings methodology."""
from __future__ import annotations

from importlib import resources

from flask import Blueprint, render_template
from markdown_it import MarkdownIt
from markupsafe import Markup

from .. import __version__
from . import newstilt

bp = Blueprint("pages", __name__)

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


@bp.get("/")
def index():
    """What this server is, and where its API lives."""
    ratings = newstilt().index()
    return render_template("index.html", version=__version__, outlets=len(ratings.outlets))


@bp.get("/methodology")
def methodology():
    """How the bundled ratings were chosen and how raters are combined (METHODOLOGY.md, rendered)."""
    text = resources.files("newstilt").joinpath("data/METHODOLOGY.md").read_text(encoding="utf-8")
    return render_template("document.html", title="Ratings methodology", body=Markup(_MARKDOWN.render(text)))
