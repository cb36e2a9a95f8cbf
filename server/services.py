"""The long-lived objects of a running service, created lazily on first use."""
from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

from .ratings import Ratings
from .store import Store


class Services:
    """What ``app.extensions["newstilt"]`` holds: the store and the ratings, built on first use."""

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

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
