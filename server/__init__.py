"""newstilt: a self-hosted news bias and coverage service.

The domain (ratings, ingestion, clustering, coverage, scoring) is plain Python behind one facade,
:class:`newstilt.core.Newstilt`; the web app (``newstilt.web``), the command line (``newstilt.cli``) and the
benchmarks all go through it. Importing this package imports neither Flask nor scikit-learn, connects to
nothing and loads no model.
"""
from __future__ import annotations

__version__ = "0.2.0.dev0"

from .config import Settings  # noqa: E402
from .core import Newstilt, make_newstilt  # noqa: E402

__all__ = ["Newstilt", "Settings", "__version__", "make_newstilt"]
