"""Liveness: ``GET /healthz``."""
from __future__ import annotations

from flask import Blueprint, current_app

from .. import __version__

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The service is up and its database answers."""
    services = current_app.extensions["newstilt"]
    index = services.ratings.index()
    return {"status": "ok", "version": __version__, "database": services.store.backend,
            "outlets": len(index.outlets), "ratings_version": index.version}
