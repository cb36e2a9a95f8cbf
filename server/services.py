"""The long-lived objects of a running service, created lazily on first use."""
from __future__ import annotations

import logging
import threading
from functools import cached_property
from pathlib import Path

from .coverage import BlindspotRule
from .ratings import Ratings
from .storage import Store

LOGGER = logging.getLogger(__name__)


class Services:
    """What ``app.extensions["newstilt"]`` holds: store, ratings, clusterer and scorer, built on first use."""

    def __init__(self, config):
        self.config = config
        self._lock = threading.Lock()

    @cached_property
    def store(self) -> Store:
        with self._lock:
            store = Store(self.config["DATABASE_URL"])
            store.ensure_schema()
            return store

    @cached_property
    def ratings(self) -> Ratings:
        path = self.config.get("RATINGS_FILE")
        return Ratings(self.store, Path(path).read_text(encoding="utf-8") if path else None)

    @cached_property
    def blindspot_rule(self) -> BlindspotRule:
        defaults = BlindspotRule()
        return BlindspotRule(
            min_rated_outlets=int(self.config.get("BLINDSPOT_MIN_OUTLETS", defaults.min_rated_outlets)),
            max_missing_share=float(self.config.get("BLINDSPOT_MAX_MISSING_SHARE", defaults.max_missing_share)),
            min_dominant_share=float(self.config.get("BLINDSPOT_MIN_DOMINANT_SHARE", defaults.min_dominant_share)),
        )

    @cached_property
    def clusterer(self):
        from .cluster import Clusterer

        return Clusterer(self.store)

    def extract(self, html: str, url: str, outlet_domain: str | None):
        from .extract import extract_article

        return extract_article(html, url, feed_outlet_domain=outlet_domain)

    def store_analyzed(self, url: str, extracted, outlet: str | None) -> None:
        """Keep a page the reader analysed (only when the ``STORE_ANALYZED`` setting is on)."""
        with self.store.begin() as conn:
            article_id = self.store.add_article(
                conn, url=url, title=extracted.title or url, text=extracted.text, origin="analyze",
                outlet=outlet, published=extracted.published, authors=", ".join(extracted.authors or ()) or None,
                language=extracted.language)
            if article_id is not None:
                self.clusterer.add(conn, article_id)

    # -- the article scorer ----------------------------------------------------------------------------

    @cached_property
    def _model(self):
        """(model, None) or (None, reason). Loaded once, lazily, only from the configured path."""
        path = Path(self.config["MODEL_PATH"])
        if not path.exists():
            return None, (f"no model installed at {path}; train one with 'newstilt train --data FILE' "
                          "or 'newstilt train --from-store'")
        from newstilt.classifier import load
        from newstilt.classifier.errors import ModelError

        try:
            return load(path), None
        except ModelError as exc:
            LOGGER.error("model at %s refused: %s", path, exc)
            return None, str(exc)

    def score(self, title: str, text: str) -> dict:
        model, reason = self._model
        if model is None:
            return {"model": None, "reason": reason}
        return model.score(title, text)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
