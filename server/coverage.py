"""How a story is covered across the spectrum: its distribution, its blindspot, its articles by side.

Everything here is computed when a story is read, from the current ratings, so importing a rater's file
changes every story's distribution at once. An outlet counts once per story however many articles it ran, and
a syndicated copy (the same wire story on another site, ``articles.syndicated_of`` set) does not count for the
outlet that reprinted it: it is listed as "also carried by" under the original.

Blindspot (Ground News' idea of a story covered overwhelmingly by one side): with at least
``min_rated_outlets`` rated outlets, a story is a blindspot for the left when at most ``max_missing_share`` of
them lean left and at least ``min_dominant_share`` lean right, and the mirror image for the right.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa

from .api_types import iso_datetime
from .errors import NotFoundError
from .ratings import RatingsIndex
from .scale import BIAS_LABELS, SIDES, bias_label, side_of
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

    def apply(self, counts: dict[str, int]) -> dict:
        rated = counts["left"] + counts["center"] + counts["right"]
        result = {"side": None, "rule": asdict(self), "explanation": ""}
        if rated < self.min_rated_outlets:
            result["explanation"] = (f"{rated} rated outlet(s); a blindspot needs at least "
                                     f"{self.min_rated_outlets}")
            return result
        for missing, dominant in (("left", "right"), ("right", "left")):
            if (counts[missing] / rated <= self.max_missing_share
                    and counts[dominant] / rated >= self.min_dominant_share):
                result["side"] = missing
                result["explanation"] = (
                    f"{counts[dominant]} of {rated} rated outlets lean {dominant} and {counts[missing]} "
                    f"lean {missing}: a blindspot for the {missing}")
                return result
        result["explanation"] = "covered across the spectrum"
        return result


def outlet_summary(index: RatingsIndex, key: str | None) -> dict | None:
    outlet = index.outlet_for_key(key) if key else None
    if outlet is None:
        return {"domain": key, "name": key, "bias": None, "factuality": None} if key else None
    return {"domain": outlet.domain, "name": outlet.name,
            "bias": None if outlet.bias_score is None else {"label": outlet.bias_label, "score": outlet.bias_score},
            "factuality": outlet.factuality}


def _group_of(outlet: dict | None) -> str:
    return side_of(outlet["bias"]["score"]) if outlet and outlet["bias"] else "unrated"


def distribution(outlets: list[dict | None]) -> dict:
    """Counts and percentages of distinct outlets per side (and unrated), with the seven-step detail."""
    distinct = {o["domain"]: o for o in outlets if o}
    counts = dict.fromkeys(GROUPS, 0)
    detail = dict.fromkeys(BIAS_LABELS, 0)
    for outlet in distinct.values():
        counts[_group_of(outlet)] += 1
        if outlet["bias"]:
            detail[bias_label(outlet["bias"]["score"])] += 1
    total = len(distinct)
    rated = total - counts["unrated"]
    return {
        "total": total,
        "rated": rated,
        **{g: {"count": counts[g], "percent": round(100 * counts[g] / total, 1) if total else 0.0} for g in GROUPS},
        "detail": detail,
    }


def _iso(value):
    return iso_datetime(value)


def story_payload(conn, story_id: int, index: RatingsIndex, rule: BlindspotRule, *,
                  exclude_url: str | None = None, with_articles: bool = True) -> dict:
    """A story as the API returns it: title, times, distribution, blindspot and articles grouped by side."""
    story = conn.execute(sa.select(stories).where(stories.c.id == story_id)).first()
    if story is None:
        raise NotFoundError(f"no story {story_id}")
    rows = conn.execute(
        sa.select(articles.c.id, articles.c.url, articles.c.title, articles.c.outlet, articles.c.published,
                  articles.c.syndicated_of)
        .where(articles.c.story_id == story_id)
        .order_by(articles.c.published.is_(None), articles.c.published, articles.c.id)).all()
    originals, copies = [], {}
    for row in rows:
        if row.syndicated_of is not None and row.syndicated_of != row.id:
            copies.setdefault(row.syndicated_of, []).append(row)
        else:
            originals.append(row)
    original_ids = {row.id for row in originals}
    # a copy whose original is not in this story still stands on its own
    for original_id in [k for k in copies if k not in original_ids]:
        originals.extend(copies.pop(original_id))
    counted = [outlet_summary(index, row.outlet) for row in originals]
    dist = distribution(counted)
    payload = {
        "id": story.id,
        "title": story.title,
        "first_published": _iso(story.first_published),
        "last_published": _iso(story.last_published),
        "article_count": len(rows),
        "source_count": dist["total"],
        "distribution": dist,
        "blindspot": rule.apply({g: dist[g]["count"] for g in GROUPS}),
    }
    if with_articles:
        grouped = {g: [] for g in GROUPS}
        for row, outlet in zip(originals, counted, strict=True):
            if exclude_url and row.url == exclude_url:
                continue
            grouped[_group_of(outlet)].append({
                "id": row.id, "url": row.url, "title": row.title, "published": _iso(row.published),
                "outlet": outlet,
                "also_carried_by": [{"url": c.url, "outlet": outlet_summary(index, c.outlet)}
                                    for c in copies.get(row.id, ())],
            })
        payload["articles"] = grouped
    return payload


def list_stories(conn, index: RatingsIndex, rule: BlindspotRule, *, since=None, blindspot: str | None = None,
                 limit: int = 20, min_sources: int = 1, max_scan: int = 2000) -> list[dict]:
    """Recent stories (by last publication), newest first, optionally only blindspots for one side.

    Filters are applied while reading; at most ``max_scan`` stories are examined per call.
    """
    query = sa.select(stories.c.id).order_by(stories.c.last_published.desc().nulls_last(), stories.c.id.desc())
    if since is not None:
        query = query.where(stories.c.last_published >= since)
    out, offset, page = [], 0, max(limit * 4, 50)
    while len(out) < limit and offset < max_scan:
        ids = conn.execute(query.limit(page).offset(offset)).scalars().all()
        if not ids:
            break
        offset += page
        for story_id in ids:
            item = story_payload(conn, story_id, index, rule, with_articles=False)
            if item["source_count"] < min_sources:
                continue
            if blindspot and item["blindspot"]["side"] != blindspot:
                continue
            out.append(item)
            if len(out) == limit:
                break
        if blindspot is None and min_sources <= 1:
            break
    return out
