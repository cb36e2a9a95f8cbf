"""Outlet ratings: the bundled table, imported raters, and the combined rating of each outlet.

Each rater is kept separately. The bundled table (``server/data/outlets.csv``) is the rater ``newstilt``;
imported files add ``mbfc`` and ``allsides``. An outlet's displayed bias is the mean of the bias scores of the
raters that rate it, rounded to the nearest of the seven steps; its factuality is the mean of the raters'
factuality levels on their ordinal scale. Every rater's own value is kept and returned beside the mean.
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import resources

from . import domains
from .api_types import to_json
from .errors import InvalidURLError, NotFoundError
from .scale import (
    BIAS_LABELS,
    BIAS_SCORES,
    FACTUALITY_LEVELS,
    OWNERSHIP_CATEGORIES,
    QUESTIONABLE_FLAGS,
    UNPOSITIONED_FLAGS,
    bias_label,
    mean_factuality,
)

LOGGER = logging.getLogger(__name__)

BUNDLED_RATER = "newstilt"
RATER_NAMES = {
    BUNDLED_RATER: "newstilt bundled ratings",
    "mbfc": "Media Bias/Fact Check",
    "allsides": "AllSides",
}
#: Order in which raters lend their name to an outlet, and are listed.
RATER_ORDER = (BUNDLED_RATER, "allsides", "mbfc")

OUTLETS_COLUMNS = ("domain", "name", "bias", "factuality", "ownership", "owner", "country", "language", "aliases",
                   "platform", "flags")


@dataclass(frozen=True)
class RaterRating:
    rater: str
    key: str
    name: str
    bias_score: float | None
    factuality: str | None
    url: str | None = None
    bias_raw: str | None = None

    def to_dict(self, rater_names: dict[str, str]) -> dict:
        return {
            "rater": self.rater,
            "name": rater_names.get(self.rater, self.rater),
            "key": self.key,
            "bias": None if self.bias_score is None else {"label": bias_label(self.bias_score),
                                                          "score": self.bias_score},
            "bias_raw": self.bias_raw,
            "factuality": self.factuality,
            "url": self.url,
        }


@dataclass(frozen=True)
class BundledEntry:
    domain: str
    name: str
    bias: str | None
    factuality: str | None
    ownership: str | None
    country: str | None
    aliases: tuple[str, ...]
    platform: bool
    owner: str | None = None
    language: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outlet:
    domain: str
    name: str
    aliases: tuple[str, ...]
    ratings: tuple[RaterRating, ...]
    ownership: str | None = None
    country: str | None = None
    owner: str | None = None
    language: str | None = None
    #: Why the source is questionable (``scale.QUESTIONABLE_FLAGS``); empty for an ordinary outlet.
    flags: tuple[str, ...] = ()

    @property
    def questionable(self) -> bool:
        return bool(self.flags)

    @property
    def owner_group(self) -> str | None:
        """The owner to group outlets by: the name before any parenthesised detail ("Nexstar Media Group
        (TEGNA)" -> "Nexstar Media Group"), unless that name only describes a kind of owner ("Privately held
        (...)"), when the whole text is the owner."""
        return owner_group(self.owner)

    @cached_property
    def bias_score(self) -> float | None:
        scores = [r.bias_score for r in self.ratings if r.bias_score is not None]
        return round(sum(scores) / len(scores), 2) if scores else None

    @property
    def bias_label(self) -> str | None:
        return None if self.bias_score is None else bias_label(self.bias_score)

    @cached_property
    def factuality(self) -> str | None:
        return mean_factuality([r.factuality for r in self.ratings if r.factuality])

    def to_dict(self, rater_names: dict[str, str]) -> dict:
        return {
            "domain": self.domain,
            "name": self.name,
            "aliases": list(self.aliases),
            "bias": None if self.bias_score is None else {"label": self.bias_label, "score": self.bias_score},
            "factuality": self.factuality,
            "ownership": self.ownership,
            "owner": self.owner,
            "country": self.country,
            "language": self.language,
            "flags": list(self.flags),
            "questionable": self.questionable,
            "raters": [r.to_dict(rater_names) for r in self.ratings],
        }


@dataclass(frozen=True)
class Match:
    outlet: Outlet
    key: str
    host: str
    kind: str  # "domain" or "alias"

    def to_dict(self, rater_names: dict[str, str]) -> dict:
        return {"outlet": self.outlet.to_dict(rater_names),
                "match": {"key": self.key, "host": self.host, "kind": self.kind}}


#: Owner names that describe a kind of owner rather than name one: such an owner is its whole text.
GENERIC_OWNERS = ("privately held", "founder-owned", "anonymous operator", "private media", "independent")


def owner_group(owner: str | None) -> str | None:
    if not owner:
        return None
    head = owner.split(" (", 1)[0].strip()
    return owner if head.lower() in GENERIC_OWNERS else head


# -- the bundled table -------------------------------------------------------------------------------


class BundledTableError(ValueError):
    """The bundled ratings file breaks its own rules (caught by the test suite, never at a user's)."""


def read_bundled_text() -> str:
    return resources.files("newstilt").joinpath("data/outlets.csv").read_text(encoding="utf-8")


def parse_bundled(text: str) -> list[BundledEntry]:
    """Parse and validate the bundled table; any broken row raises BundledTableError naming its line."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != OUTLETS_COLUMNS:
        raise BundledTableError(f"outlets.csv header must be {','.join(OUTLETS_COLUMNS)}")
    entries, seen = [], {}
    for row in reader:
        line = reader.line_num
        try:
            entry = _bundled_entry(row)
        except (InvalidURLError, ValueError) as exc:
            raise BundledTableError(f"outlets.csv line {line}: {exc}") from None
        for key in (entry.domain, *entry.aliases):
            if key in seen:
                raise BundledTableError(f"outlets.csv line {line}: key {key} already used on line {seen[key]}")
            seen[key] = line
        entries.append(entry)
    return entries


def _bundled_entry(row: dict) -> BundledEntry:
    def key(value: str) -> str:
        normalised = domains.normalise_key(value)
        if normalised != value:
            raise ValueError(f"key {value!r} is not in normal form (expected {normalised!r})")
        if domains.is_public_suffix(domains.split_key(value)[0]):
            raise ValueError(f"key {value!r} is a public suffix")
        return value

    platform = row["platform"].strip()
    if platform not in ("", "yes"):
        raise ValueError(f"platform must be 'yes' or empty, not {platform!r}")
    bias, fact, ownership, owner, country, language = (
        row[c].strip() or None for c in ("bias", "factuality", "ownership", "owner", "country", "language"))
    flags = tuple(row["flags"].split())
    if platform:
        if bias or fact or flags:
            raise ValueError("a platform row carries no rating")
    else:
        for flag in flags:
            if flag not in QUESTIONABLE_FLAGS:
                raise ValueError(f"flag {flag!r} is not one of {', '.join(QUESTIONABLE_FLAGS)}")
        if len(set(flags)) != len(flags):
            raise ValueError("a flag is repeated")
        if bias is None and not set(flags) & set(UNPOSITIONED_FLAGS):
            raise ValueError(f"bias is empty; only a source flagged {' or '.join(UNPOSITIONED_FLAGS)} may have none")
        if bias is not None and bias not in BIAS_LABELS:
            raise ValueError(f"bias {bias!r} is not one of {', '.join(BIAS_LABELS)}")
        if fact not in FACTUALITY_LEVELS:
            raise ValueError(f"factuality {fact!r} is not one of {', '.join(FACTUALITY_LEVELS)}")
        if ownership not in OWNERSHIP_CATEGORIES:
            raise ValueError(f"ownership {ownership!r} is not one of {', '.join(OWNERSHIP_CATEGORIES)}")
        if not country or len(country) != 2 or not country.isupper():
            raise ValueError(f"country {country!r} is not an ISO 3166 alpha-2 code")
        if not language or len(language) != 2 or not language.islower():
            raise ValueError(f"language {language!r} is not an ISO 639-1 code")
        if not owner:
            raise ValueError("owner is empty (name the company, family, person or body that owns the outlet)")
    if not row["name"].strip():
        raise ValueError("name is empty")
    return BundledEntry(
        domain=key(row["domain"].strip()),
        name=row["name"].strip(),
        bias=bias, factuality=fact, ownership=ownership, country=country,
        aliases=tuple(key(a) for a in row["aliases"].split()),
        platform=bool(platform), owner=owner, language=language, flags=flags,
    )


# -- the index ---------------------------------------------------------------------------------------


@dataclass
class RatingsIndex:
    """Every outlet, keyed for matching. Built from the bundled table plus what the store holds."""

    outlets: dict[str, Outlet]
    platforms: frozenset[str]
    rater_names: dict[str, str]
    version: str
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    _keys: dict[str, tuple[Outlet, str]] = field(init=False, repr=False)
    _paths: dict[str, list[tuple[tuple[str, ...], str]]] = field(init=False, repr=False)
    #: JSON of each outlet and of the whole table, made once: an index never changes (a new one is built when
    #: the ratings do), and a lookup is the service's most frequent request.
    _json: dict[str, bytes] = field(init=False, repr=False)

    def __post_init__(self):
        self._keys, self._paths, self._json = {}, {}, {}
        for outlet in self.outlets.values():
            for key, kind in ((outlet.domain, "domain"), *((a, "alias") for a in outlet.aliases)):
                self._keys[key] = (outlet, kind)
                host, segments = domains.split_key(key)
                if segments:
                    self._paths.setdefault(host, []).append((segments, key))
        for entries in self._paths.values():
            entries.sort(key=lambda item: len(item[0]), reverse=True)

    def match(self, url: str) -> Match:
        """The outlet ``url`` belongs to; InvalidURLError for junk, NotFoundError for unrated sites."""
        parsed = domains.parse_url(url)
        for host in domains.candidate_hosts(parsed.host, self.platforms):
            for segments, key in self._paths.get(host, ()):
                if parsed.path_segments[: len(segments)] == segments:
                    outlet, kind = self._keys[key]
                    return Match(outlet, key, parsed.host, kind)
            if host in self._keys:
                outlet, kind = self._keys[host]
                return Match(outlet, host, parsed.host, kind)
        if domains.strip_variant_prefix(parsed.host) in self.platforms:
            raise NotFoundError(f"{parsed.host} is a shared platform; its sites are not rated as one outlet")
        raise NotFoundError(f"no rating for {parsed.host}")

    def outlet_for_key(self, key: str) -> Outlet | None:
        hit = self._keys.get(key)
        return hit[0] if hit else None

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "generated_at": self.generated_at,
            "scale": {"bias": list(BIAS_LABELS), "factuality": list(FACTUALITY_LEVELS)},
            "platforms": sorted(self.platforms),
            "outlets": [self.outlets[d].to_dict(self.rater_names) for d in sorted(self.outlets)],
        }


def build_index(bundled: list[BundledEntry], imported: Iterable[dict], imported_aliases: dict[str, str],
                rater_names: dict[str, str], version: str) -> RatingsIndex:
    """Combine the bundled table with imported raters into one index of outlets.

    A rater's key is resolved to an outlet through the bundled table's domains and aliases, then the raters'
    own aliases (MBFC maps ``bbc.co.uk`` to ``bbc.com``); keys nobody knows become outlets of their own.
    """
    canonical: dict[str, str] = {}
    info: dict[str, BundledEntry] = {}
    ratings: dict[str, list[RaterRating]] = {}
    aliases: dict[str, set[str]] = {}
    platforms = set()
    for entry in bundled:
        if entry.platform:
            platforms.add(entry.domain)
            continue
        info[entry.domain] = entry
        canonical[entry.domain] = entry.domain
        aliases[entry.domain] = set(entry.aliases)
        for alias in entry.aliases:
            canonical[alias] = entry.domain
        ratings[entry.domain] = [RaterRating(
            rater=BUNDLED_RATER, key=entry.domain, name=entry.name,
            bias_score=None if entry.bias is None else float(BIAS_SCORES[entry.bias]), factuality=entry.factuality,
            bias_raw=entry.bias)]

    def resolve(key: str) -> str:
        seen = set()
        while key not in canonical and key in imported_aliases and key not in seen:
            seen.add(key)
            key = imported_aliases[key]
        return canonical.get(key, key)

    names: dict[str, str] = {}
    for row in sorted(imported, key=lambda r: (RATER_ORDER.index(r["rater"]) if r["rater"] in RATER_ORDER
                                               else len(RATER_ORDER), r["rater"], r["key"])):
        if domains.split_key(row["key"])[0] in platforms and "/" not in row["key"]:
            continue  # a rater's rating of a platform itself would leak onto nothing useful; skip it
        outlet_key = resolve(row["key"])
        canonical.setdefault(outlet_key, outlet_key)
        names.setdefault(outlet_key, row["name"])
        aliases.setdefault(outlet_key, set())
        if row["key"] != outlet_key:
            aliases[outlet_key].add(row["key"])
            canonical.setdefault(row["key"], outlet_key)
        ratings.setdefault(outlet_key, []).append(RaterRating(
            rater=row["rater"], key=row["key"], name=row["name"], bias_score=row["bias_score"],
            factuality=row["factuality"], url=row["url"], bias_raw=row["bias_raw"]))
    for alias, target in imported_aliases.items():
        outlet_key = resolve(target)
        if outlet_key in ratings and alias not in canonical:
            aliases[outlet_key].add(alias)
            canonical[alias] = outlet_key

    outlets = {}
    for key, rater_ratings in ratings.items():
        entry = info.get(key)
        outlets[key] = Outlet(
            domain=key,
            name=entry.name if entry else names[key],
            aliases=tuple(sorted(aliases.get(key, ()))),
            ratings=tuple(rater_ratings),
            ownership=entry.ownership if entry else None,
            country=entry.country if entry else None,
            owner=entry.owner if entry else None,
            language=entry.language if entry else None,
            flags=entry.flags if entry else (),
        )
    return RatingsIndex(outlets=outlets, platforms=frozenset(platforms),
                        rater_names={**RATER_NAMES, **rater_names}, version=version)


class Ratings:
    """The live ratings of a store: the bundled table combined with the imported raters, kept in memory.

    The index is rebuilt when the store's ratings change. To notice an import made by another process (the CLI
    beside a running server), the store's fingerprint of the imported ratings is read at most once every
    ``max_age`` seconds (0: on every call), never on every request; :meth:`invalidate` forces the next read.
    """

    def __init__(self, store, bundled_text: str | None = None, *, max_age: float = 0.0):
        self.store = store
        text = read_bundled_text() if bundled_text is None else bundled_text
        self.bundled = parse_bundled(text)
        self.bundled_sha = hashlib.sha256(text.encode()).hexdigest()
        self.max_age = max_age
        self._index: RatingsIndex | None = None
        self._fingerprint: str | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Ask the store again on the next :meth:`index` (after this process changed the ratings)."""
        self._checked = float("-inf")

    def index(self) -> RatingsIndex:
        index = self._index
        if index is not None and time.monotonic() - self._checked < self.max_age:
            return index
        with self._lock:
            fingerprint = self.store.ratings_fingerprint()
            if self._index is None or fingerprint != self._fingerprint:
                imported, aliases, names = self.store.load_imported_ratings()
                version = hashlib.sha256(f"{self.bundled_sha};{fingerprint}".encode()).hexdigest()[:32]
                self._index = build_index(self.bundled, imported, aliases, names, version)
                self._fingerprint = fingerprint
                LOGGER.info("ratings index built: %s outlets, version %s", len(self._index.outlets), version)
            self._checked = time.monotonic()
            return self._index


def dumps_table(index: RatingsIndex) -> bytes:
    """The whole table as compact JSON bytes (what ``GET /api/v1/sources`` serves), made once per index."""
    body = index._json.get("")
    if body is None:
        body = index._json[""] = to_json(index.to_dict())
    return body


def dumps_match(index: RatingsIndex, match: Match) -> bytes:
    """``match.to_dict()`` as compact JSON bytes (what a lookup answers), the outlet's part made once per index."""
    outlet = index._json.get(match.outlet.domain)
    if outlet is None:
        outlet = index._json[match.outlet.domain] = to_json(match.outlet.to_dict(index.rater_names))
    return b'{"outlet":' + outlet + b',"match":' + to_json(
        {"key": match.key, "host": match.host, "kind": match.kind}) + b"}"
