"""Liveness: ``GET /healthz``."""
from __future__ import annotations

from flask import Blueprint

from .. import __version__
from . import newstilt

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The service is up, its database answers, and whether a scoring model is loaded (with its figures)."""
    nt = newstilt()
    index = nt.index()
    return {"status": "ok", "version": __version__, "database": nt.store.backend,
            "outlets": len(index.outlets), "ratings_version": index.version, "scorer": nt.model_status()}
