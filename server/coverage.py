"""How a story is covered across the spectrum: who covered it, how they split by side, its blindspot.

One function counts: :func:`distribution`. Every payload (the story API, the listing, analyze), every page
and every heading takes its numbers from it, so they always count the same thing: **sources** (distinct
outlets), never articles.

* An outlet counts once per story however many articles it ran.
* A syndicated copy (the same wire story on another site, ``articles.syndicated_of`` set) does not count for
  the outlet that reprinted it; it is listed as "also carried by" under the original, unless the copy is the
  original outlet's own (an outlet never appears as carrying its own article).
* The reader's own outlet (analyze) counts once, whether or not the page is stored.
* Percentages of the three sides are of the **rated** sources, whole numbers that sum to 100 (largest
  remainder), as Ground News shows them; the unrated sources are counted beside them (``unrated.count``, and
  ``unrated.percent``, their share of all sources).

Blindspot (Ground News' idea of a story covered overwhelmingly by one side): with at least
``min_rated_outlets`` rated outlets, a story is a blindspot for the left when at most ``max_missing_share`` of
them lean left and at least ``min_dominant_share`` lean right, and the mirror image for the right.

What a listing needs (the distribution, the blindspot side, the source count, the summary) is kept on the
story row by ``newstilt.storyrows``; a story's detail is computed here when it is read.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from .api_types import iso_datetime
from .errors import NotFoundError
from .ratings import RatingsIndex
from .scale import BIAS_LABELS, FACTUALITY_LEVELS, SIDES, bias_label, side_of
from .storage import articles, stories

GROUPS = (*SIDES, "unrated")


@dataclass(frozen=True)
class BlindspotRule:
    min_rated_outlets: int = 4
    max_missing_share: float = 0.10
    min_dominant_share: float = 0.60

    def __post_init__(self):
        if self.min_rated_outlets < 1 or not 0 <= self.max_missing_share < self.min_dominant_share <= 1:
            raise ValueError("blindspot rule needs min_rated_outlets >= 1 and "
                             "0 <= max_missing_share < min_dominant_share <= 1")

    @property
    def stamp(self) -> str:
        """Short text identifying the rule (part of the version stamp of a story row's counts)."""
        return f"{self.min_rated_outlets}/{self.max_missing_share:g}/{self.min_dominant_share:g}"

    def apply(self, counts: Mapping[str, int]) -> dict:
        rated = counts["left"] + counts["center"] + counts["right"]
        result = {"side": None, "rule": asdict(self), "explanation": ""}
        if rated < self.min_rated_outlets:
            result["explanation"] = (f"{rated} rated source(s); a blindspot needs at least "
                                     f"{self.min_rated_outlets}")
            return result
        for missing, dominant in (("left", "right"), ("right", "left")):
            if (counts[missing] / rated <= self.max_missing_share
                    and counts[dominant] / rated >= self.min_dominant_share):
                result["side"] = missing
                result["explanation"] = (
                    f"{counts[dominant]} of {rated} rated sources lean {dominant} and {counts[missing]} "
                    f"lean {missing}: a blindspot for the {missing}")
                return result
        result["explanation"] = "covered across the spectrum"
        return result


def counts_version(index: RatingsIndex, rule: BlindspotRule) -> str:
    """The stamp a story row's counts carry: they are current while the ratings and the rule are these."""
    return hashlib.sha256(f"{index.version};{rule.stamp}".encode()).hexdigest()[:32]


# -- the count ---------------------------------------------------------------------------------------


def outlet_summary(index: RatingsIndex, key: str | None) -> dict | None:
    """The short form of an outlet used in story payloads (an unrated site keeps its domain as its name)."""
    outlet = index.outlet_for_key(key) if key else None
    if outlet is None:
        return {"domain": key, "name": key, "bias": None, "factuality": None} if key else None
    return {"domain": outlet.domain, "name": outlet.name,
            "bias": None if outlet.bias_score is None else {"label": outlet.bias_label, "score": outlet.bias_score},
            "factuality": outlet.factuality}


def group_of(outlet: Mapping | None) -> str:
    """``left``, ``center``, ``right`` or ``unrated`` for an outlet summary."""
    return side_of(outlet["bias"]["score"]) if outlet and outlet["bias"] else "unrated"


def whole_percents(counts: Mapping[str, int]) -> dict[str, int]:
    """Whole percentages of ``counts`` that sum to exactly 100 (all 0 when the total is 0).

    Largest remainder (Hamilton): each share is rounded down, then the points still missing go to the largest
    remainders, ties to the key listed first. So 1/1/1 gives 34/33/33, never 33/33/33.
    """
    total = sum(counts.values())
    if not total:
        return dict.fromkeys(counts, 0)
    exact = {k: 100 * v / total for k, v in counts.items()}
    out = {k: int(x) for k, x in exact.items()}
    order = sorted(counts, key=lambda k: -(exact[k] - out[k]))  # stable: ties keep the listed order
    for k in order[:100 - sum(out.values())]:
        out[k] += 1
    return out


def distribution(outlets: Iterable[Mapping | None]) -> dict:
    """THE count of a story's sources: distinct outlets per side, rated and unrated, with the seven-step detail.

    ``outlets`` are outlet summaries (``outlet_summary``), one per counted article, repeats and None allowed.
    ``left/center/right.percent`` are whole percentages of the rated sources summing to 100 (0 when none is
    rated); ``unrated.percent`` is the unrated sources' whole percentage of all sources.
    """
    distinct: dict[str, Mapping] = {}
    for outlet in outlets:
        if outlet:
            distinct.setdefault(outlet["domain"], outlet)
    counts = dict.fromkeys(GROUPS, 0)
    detail = dict.fromkeys(BIAS_LABELS, 0)
    for outlet in distinct.values():
        counts[group_of(outlet)] += 1
        if outlet["bias"]:
            detail[bias_label(outlet["bias"]["score"])] += 1
    total = len(distinct)
    rated = total - counts["unrated"]
    percents = whole_percents({g: counts[g] for g in SIDES})
    unrated_percent = (200 * counts["unrated"] + total) // (2 * total) if total else 0  # halves up
    return {
        "total": total,
        "rated": rated,
        **{g: {"count": counts[g], "percent": percents[g]} for g in SIDES},
        "unrated": {"count": counts["unrated"], "percent": unrated_percent},
        "percent_of": "rated",
        "detail": detail,
    }


def side_counts(dist: Mapping) -> dict[str, int]:
    return {g: dist[g]["count"] for g in GROUPS}


# -- a story's members -------------------------------------------------------------------------------

_MEMBERS = (sa.select(articles.c.id, articles.c.url, articles.c.title, articles.c.outlet, articles.c.published,
                      articles.c.syndicated_of)
            .where(articles.c.story_id == sa.bindparam("sid"))
            .order_by(articles.c.published.is_(None), articles.c.published, articles.c.id))


@dataclass(frozen=True)
class Members:
    """A story's articles split into those that count (``originals``) and syndicated copies of them."""

    rows: list
    originals: list
    copies: dict[int, list]  # original id -> copies of it in this story

    @classmethod
    def read(cls, conn, story_id: int) -> Members:
        return cls.split(conn.execute(_MEMBERS, {"sid": story_id}).all())

    @classmethod
    def split(cls, rows: list) -> Members:
        originals, copies = [], {}
        for row in rows:
            if row.syndicated_of is not None and row.syndicated_of != row.id:
                copies.setdefault(row.syndicated_of, []).append(row)
            else:
                originals.append(row)
        original_ids = {row.id for row in originals}
        # a copy whose original is not in this story stands on its own
        for original_id in [k for k in copies if k not in original_ids]:
            originals.extend(copies.pop(original_id))
        originals.sort(key=lambda r: (r.published is None, r.published or 0, r.id))
        return cls(list(rows), originals, copies)

    def counted_outlets(self) -> list[str]:
        return [row.outlet for row in self.originals if row.outlet]


def story_counts(index: RatingsIndex, rule: BlindspotRule, outlet_keys: Iterable[str | None]) -> tuple[dict, dict]:
    """(distribution, blindspot) of the sources ``outlet_keys`` name: what every payload shows."""
    dist = distribution(outlet_summary(index, key) for key in outlet_keys)
    return dist, rule.apply(side_counts(dist))


# -- coverage details --------------------------------------------------------------------------------


def _tally(values: Iterable[str | None], order: Iterable[str] = ()) -> dict[str, int]:
    """Counts of each value (None as ``unknown``), in ``order`` first, then by count."""
    counter = Counter("unknown" if v is None else v for v in values)
    ordered = [k for k in order if k in counter]
    ordered += sorted((k for k in counter if k not in ordered and k != "unknown"), key=lambda k: (-counter[k], k))
    if "unknown" in counter:
        ordered.append("unknown")
    return {k: counter[k] for k in ordered}


def coverage_details(index: RatingsIndex, members: Members, outlet_keys: list[str | None]) -> dict:
    """What the story's sources are: factuality, ownership and owners, countries, questionable sources, and how
    much of the coverage is original reporting (a syndicated copy is not)."""
    from .scale import OWNERSHIP_CATEGORIES

    keys = list(dict.fromkeys(k for k in outlet_keys if k))
    outlets = [index.outlet_for_key(k) for k in keys]
    questionable = [{"domain": o.domain, "name": o.name, "flags": list(o.flags)} for o in outlets
                    if o is not None and o.questionable]
    copies = sum(len(c) for c in members.copies.values())
    n_articles = len(members.rows)
    return {
        "sources": len(keys),
        "factuality": _tally((o.factuality if o else None for o in outlets), FACTUALITY_LEVELS),
        "ownership": _tally((o.ownership if o else None for o in outlets), OWNERSHIP_CATEGORIES),
        "owners": _tally(o.owner for o in outlets if o is not None and o.owner),
        "countries": _tally(o.country if o else None for o in outlets),
        "questionable": {"count": len(questionable), "sources": questionable},
        "original_reporting": {
            "articles": n_articles, "original": n_articles - copies, "syndicated": copies,
            "percent": round(100 * (n_articles - copies) / n_articles) if n_articles else 0},
    }


# -- payloads ----------------------------------------------------------------------------------------


def _iso(value):
    return iso_datetime(value)


def summary_payload(index: RatingsIndex, stored: str | None) -> list[dict]:
    """The stored summary (JSON on the story row) with each bullet's outlet spelled out."""
    if not stored:
        return []
    return [{"text": b["text"], "url": b["url"], "outlet": outlet_summary(index, b.get("outlet")),
             "article_id": b.get("article_id")} for b in json.loads(stored)]


def story_payload(conn, story_id: int, index: RatingsIndex, rule: BlindspotRule, *,
                  exclude_url: str | None = None, reader_outlet: str | None = None,
                  with_articles: bool = True) -> dict:
    """A story as the API returns it: times, counts, summary, coverage details, framing, timeline, articles.

    ``reader_outlet`` (analyze) is the outlet of the page the reader is on: it counts once among the sources
    whether or not that page is stored. ``exclude_url`` leaves the reader's own page out of the article lists.
    """
    story = conn.execute(sa.select(stories).where(stories.c.id == story_id)).first()
    if story is None:
        raise NotFoundError(f"no story {story_id}")
    members = Members.read(conn, story_id)
    keys = members.counted_outlets()
    if reader_outlet:
        keys.append(reader_outlet)
    dist, blindspot = story_counts(index, rule, keys)
    payload = {
        "id": story.id,
        "title": story.title,
        "first_published": _iso(story.first_published),
        "last_published": _iso(story.last_published),
        "last_updated": _iso(story.updated_at),
        "article_count": len(members.rows),
        "source_count": dist["total"],
        "distribution": dist,
        "blindspot": blindspot,
        "summary": summary_payload(index, story.summary),
    }
    if not with_articles:
        return payload
    payload["coverage"] = coverage_details(index, members, keys)
    grouped = {g: [] for g in GROUPS}
    for row in members.originals:
        if exclude_url and row.url == exclude_url:
            continue
        outlet = outlet_summary(index, row.outlet)
        grouped[group_of(outlet)].append(_article(index, row, outlet, members.copies.get(row.id, ())))
    payload["articles"] = grouped
    payload["timeline"] = _timeline(index, members)
    from .framing import framing

    payload["framing"] = framing(conn, index, members)
    return payload


def _article(index: RatingsIndex, row, outlet: dict | None, copies) -> dict:
    carried, seen = [], {row.outlet}
    for copy in copies:
        if copy.outlet in seen:  # an outlet never carries its own article, and is named once
            continue
        seen.add(copy.outlet)
        carried.append({"url": copy.url, "outlet": outlet_summary(index, copy.outlet)})
    return {"id": row.id, "url": row.url, "title": row.title, "published": _iso(row.published),
            "outlet": outlet, "also_carried_by": carried}


def _timeline(index: RatingsIndex, members: Members) -> list[dict]:
    """Every article in publication order (undated last): when each outlet picked the story up."""
    originals = {row.id for row in members.originals}
    out, seen = [], set()
    for row in members.rows:
        outlet = outlet_summary(index, row.outlet)
        out.append({"id": row.id, "url": row.url, "title": row.title, "published": _iso(row.published),
                    "outlet": outlet, "group": group_of(outlet), "syndicated": row.id not in originals,
                    "first_for_outlet": row.outlet not in seen})
        seen.add(row.outlet)
    return out
