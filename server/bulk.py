"""Bulk import of articles from JSON Lines files (optionally gzip-compressed), one article per line.

A line is an object with ``url`` and ``title`` and/or ``text``; ``published`` (``YYYY-MM-DD``, an ISO 8601
timestamp, or the US ``M/D/YY`` some exports use), ``authors`` (string or list) and ``language`` are optional;
other fields (``id``, ``source``, ``domain``, ``topic``, ``label``...) are ignored: the outlet comes from the URL
through ``outlet_for`` and nothing else of the file's labelling reaches the store.

The import runs in two phases, each committing in batches, so an interrupted import loses nothing committed
and running it again continues where it stopped:

1. **Store.** Lines are read in order, URLs normalised (``newstilt.urls.normalize_url``), and articles inserted
   with ``origin="import"``; URLs already stored are skipped. A broken line (bad JSON, no URL, an invalid URL,
   neither title nor text) is logged and counted, never fatal. A publication date that cannot be read or is
   implausible (before 1900 or more than two days ahead) is stored as no date and counted in ``bad_dates``.
2. **Cluster.** Every article still without a story (this file's, and any left over by an interrupted run) is
   clustered *in publication order* (undated articles last, ties by id), through the same ``Clusterer.add``
   live ingestion uses. Live news arrives roughly in publication order; feeding an archive the same way means a
   story grows from its first report on, its window and span rules see the same sequence, and an import
   clusters like the news would have live, whatever order the file happens to be in.
"""
from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from tqdm import tqdm

from .articles import NewArticle, add_article
from .errors import InvalidURLError
from .storage import articles
from .urls import normalize_url

LOGGER = logging.getLogger(__name__)

MIN_YEAR = 1900
#: How many broken lines are logged one by one before the import only counts them.
MAX_LOGGED = 20

_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")


def parse_published(value) -> datetime | None:
    """A UTC-aware publication time from the formats import files use; None when absent or unreadable."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    value = value.strip()
    match = _US_DATE.match(value)
    try:
        if match:
            month, day, year = (int(g) for g in match.groups())
            result = datetime(year + 2000 if year < 100 else year, month, day, tzinfo=UTC)
        elif len(value) == 10:
            result = datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        else:
            result = datetime.fromisoformat(value.replace("Z", "+00:00"))
            result = result.replace(tzinfo=UTC) if result.tzinfo is None else result.astimezone(UTC)
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r}") from exc
    if result.year < MIN_YEAR or result > datetime.now(UTC) + timedelta(days=2):
        raise ValueError(f"implausible date: {value!r}")
    return result


def _open(path: Path):
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _record(line: str, outlet_for: Callable[[str], str | None] | None, counts: dict) -> dict:
    """The article of one line, ready for ``Store.add_article``; ValueError says why a line is unusable."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(item, dict):
        raise ValueError("not a JSON object")
    url = item.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValueError("no url")
    try:
        url = normalize_url(url.strip())
    except InvalidURLError as exc:
        raise ValueError(f"invalid url: {exc}") from None
    title, text = item.get("title") or "", item.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise ValueError("title and text must be strings")
    title, text = " ".join(title.split()), text.strip()
    if not title and not text:
        raise ValueError("neither title nor text")
    try:
        published = parse_published(item.get("published"))
    except ValueError as exc:
        LOGGER.debug("%s: %s; stored without a date", url, exc)
        counts["bad_dates"] += 1
        published = None
    authors = item.get("authors")
    if isinstance(authors, list):
        authors = ", ".join(str(a).strip() for a in authors if str(a).strip())
    outlet = None
    if outlet_for is not None:
        try:
            outlet = outlet_for(url)
        except Exception as exc:  # noqa: BLE001 - an outlet lookup failure must not sink the file
            LOGGER.debug("no outlet for %s: %s", url, exc)
    language = item.get("language")
    return {"url": url, "title": (title or url)[:1000], "text": text, "published": published,
            "authors": str(authors)[:2000] if authors else None, "outlet": outlet,
            "language": language[:16] if isinstance(language, str) and language else None}


def import_jsonl(store, path, *, clusterer, outlet_for: Callable[[str], str | None] | None = None,
                 progress: bool = True, batch_size: int = 500, cluster_batch: int = 200) -> dict[str, int]:
    """Load the articles of a JSONL(.gz) file and cluster them; returns counts of what happened.

    Counts: ``lines`` read, ``added`` articles, ``known`` (URL already stored), ``broken`` lines,
    ``bad_dates`` (stored undated), ``clustered`` articles, ``new_stories``, ``syndicated`` copies found.
    """
    path = Path(path)
    counts = dict.fromkeys(("lines", "added", "known", "broken", "bad_dates", "clustered", "new_stories",
                            "syndicated"), 0)
    store.ensure_schema()
    batch: list[dict] = []
    with _open(path) as lines, tqdm(desc=f"store {path.name}", unit=" lines", disable=not progress) as bar:
        for lineno, line in enumerate(lines, 1):
            bar.update(1)
            if not line.strip():
                continue
            counts["lines"] += 1
            try:
                batch.append(_record(line, outlet_for, counts))
            except ValueError as exc:
                counts["broken"] += 1
                log = LOGGER.warning if counts["broken"] <= MAX_LOGGED else LOGGER.debug
                log("%s:%d: skipped: %s", path, lineno, exc)
                continue
            if len(batch) >= batch_size:
                _store_batch(store, batch, counts)
                batch = []
        if batch:
            _store_batch(store, batch, counts)
    if counts["broken"] > MAX_LOGGED:
        LOGGER.warning("%s: %d broken lines skipped", path, counts["broken"])
    cluster_pending(store, clusterer, counts=counts, progress=progress, batch_size=cluster_batch)
    return counts


def _store_batch(store, batch: list[dict], counts: dict) -> None:
    with store.begin() as conn:
        known = store.known_urls(conn, (item["url"] for item in batch))
        for item in batch:
            if item["url"] in known:
                counts["known"] += 1
                continue
            added = add_article(store, conn, NewArticle(origin="import", text_source="import", **item))
            if added.status != "added":  # the same article twice in the file, or another process won the race
                counts["known"] += 1
            else:
                counts["added"] += 1
                known[item["url"]] = "import"


def cluster_pending(store, clusterer, *, counts: dict | None = None, progress: bool = True,
                    batch_size: int = 200) -> dict:
    """Cluster every stored article without a story, in publication order (undated last), in batches."""
    counts = counts if counts is not None else dict.fromkeys(("clustered", "new_stories", "syndicated"), 0)
    with store.connect() as conn:
        ids = conn.execute(sa.select(articles.c.id).where(articles.c.story_id.is_(None))
                           .order_by(articles.c.published.is_(None), articles.c.published, articles.c.id)
                           ).scalars().all()
    with tqdm(total=len(ids), desc="cluster", unit=" articles", disable=not progress) as bar:
        for i in range(0, len(ids), batch_size):
            with store.begin() as conn:
                clusterer.lock(conn)
                for article_id in ids[i:i + batch_size]:
                    assignment = clusterer.add(conn, article_id)
                    counts["clustered"] += 1
                    counts["new_stories"] += assignment.new_story
                    counts["syndicated"] += assignment.syndicated_of is not None
            bar.update(len(ids[i:i + batch_size]))
    return counts
