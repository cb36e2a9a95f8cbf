"""Importers for the public ratings formats: Media Bias/Fact Check's ``combined.json`` and AllSides' CSV.

An importer parses and validates the whole file before anything is written; a malformed file raises
RatingsImportError with a message naming the problem and the store is left as it was. Each rater's scale is
mapped onto newstilt's seven steps (see METHODOLOGY.md): both raters' five-point left..right scales map to
-2..+2; MBFC's extreme ratings map to -3/+3; MBFC's non-bias categories (questionable, conspiracy, satire,
pro-science) carry no bias score but keep their factuality and their own label.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from . import domains
from .errors import InvalidURLError, RatingsImportError
from .scale import FACTUALITY_LEVELS

MAX_FILE_BYTES = 64 * 1024 * 1024

MBFC_BIAS = {
    "extreme-left": -3.0, "far-left": -3.0,
    "left": -2.0, "left-center": -1.0, "center": 0.0, "least-biased": 0.0, "right-center": 1.0,
    "right": 2.0, "extreme-right": 3.0, "far-right": 3.0,
}
ALLSIDES_BIAS = {"left": -2.0, "lean left": -1.0, "center": 0.0, "lean right": 1.0, "right": 2.0}
#: AllSides rates some sources "Mixed" (no single lean): kept with no score.
ALLSIDES_UNSCORED = {"mixed", "not rated", ""}


@dataclass(frozen=True)
class ParsedRatings:
    rater: str
    name: str
    ratings: list[dict]
    aliases: dict[str, str]
    skipped: list[str]
    file_sha256: str


def read_file(path: str | Path) -> bytes:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RatingsImportError(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise RatingsImportError(f"{path} is {size} bytes; ratings files over {MAX_FILE_BYTES} bytes are refused")
    return path.read_bytes()


def parse(data: bytes, fmt: str) -> ParsedRatings:
    if fmt == "mbfc":
        return parse_mbfc(data)
    if fmt == "allsides":
        return parse_allsides(data)
    raise RatingsImportError(f"unknown format {fmt!r}: use mbfc or allsides")


def _text(data: bytes, what: str) -> str:
    if b"\x00" in data[:8192]:
        raise RatingsImportError(f"this is a binary file, not {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RatingsImportError(f"not UTF-8 text (byte {exc.start}); {what} is UTF-8") from None


def parse_mbfc(data: bytes) -> ParsedRatings:
    """Parse MBFC's ``combined.json`` (its ``sources``, ``aliases``, and the declared ``biases``/``reporting``)."""
    try:
        doc = json.loads(_text(data, "an MBFC combined.json"))
    except json.JSONDecodeError as exc:
        raise RatingsImportError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("sources"), list):
        raise RatingsImportError("not an MBFC combined.json: expected an object with a 'sources' list")
    declared_bias = _declared(doc, "biases", "bias")
    declared_reporting = _declared(doc, "reporting", "reporting")
    raw_aliases = doc.get("aliases", {})
    if not isinstance(raw_aliases, dict):
        raise RatingsImportError("'aliases' must be an object mapping domain to domain")

    ratings, skipped, seen = [], [], {}
    for i, source in enumerate(doc["sources"]):
        where = f"sources[{i}]"
        if not isinstance(source, dict):
            raise RatingsImportError(f"{where} is not an object")
        for name in ("domain", "name", "bias"):
            if not isinstance(source.get(name), str) or not source[name].strip():
                raise RatingsImportError(f"{where} has no '{name}'")
        bias = source["bias"].strip().lower()
        if declared_bias is not None and bias not in declared_bias:
            raise RatingsImportError(f"{where} ({source['domain']}): bias {bias!r} is not one the file declares")
        reporting = (source.get("reporting") or "").strip().lower() or None
        if reporting is not None and reporting not in FACTUALITY_LEVELS:
            if declared_reporting is not None and reporting not in declared_reporting:
                raise RatingsImportError(f"{where} ({source['domain']}): reporting {reporting!r} is not declared")
            reporting = None
        try:
            key = domains.normalise_key(source["domain"])
        except InvalidURLError as exc:
            raise RatingsImportError(f"{where}: domain {source['domain']!r}: {exc}") from None
        if key in seen:
            skipped.append(f"{where}: duplicate of {seen[key]} ({key})")
            continue
        seen[key] = where
        questionable = source.get("questionable") or []
        extra = {"questionable": questionable} if questionable else None
        ratings.append({
            "key": key,
            "name": source["name"].strip(),
            "bias_score": MBFC_BIAS.get(bias),
            "bias_raw": bias,
            "factuality": reporting,
            "url": source.get("url") if isinstance(source.get("url"), str) else None,
            "extra": json.dumps(extra, sort_keys=True) if extra else None,
        })
    aliases = {}
    for alias, target in raw_aliases.items():
        if not isinstance(alias, str) or not isinstance(target, str):
            raise RatingsImportError("'aliases' must map domain strings to domain strings")
        try:
            aliases[domains.normalise_key(alias)] = domains.normalise_key(target)
        except InvalidURLError as exc:
            raise RatingsImportError(f"aliases: {alias!r} -> {target!r}: {exc}") from None
    if not ratings:
        raise RatingsImportError("the file rates no sources")
    return ParsedRatings("mbfc", "Media Bias/Fact Check", ratings, aliases, skipped,
                         hashlib.sha256(data).hexdigest())


def _declared(doc: dict, section: str, field: str) -> set[str] | None:
    items = doc.get(section)
    if items is None:
        return None
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get(field), str) for i in items):
        raise RatingsImportError(f"'{section}' must be a list of objects with a '{field}'")
    return {i[field].lower() for i in items}


ALLSIDES_COLUMNS = ("news_source", "news_link", "bias_rating")


def parse_allsides(data: bytes) -> ParsedRatings:
    """Parse an AllSides ratings CSV export (``news_source,news_link,bias_rating[,community_feedback]``)."""
    text = _text(data, "an AllSides CSV")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise RatingsImportError(f"not a valid CSV: {exc}") from None
    missing = [c for c in ALLSIDES_COLUMNS if c not in header]
    if missing:
        raise RatingsImportError(f"not an AllSides CSV: missing column(s) {', '.join(missing)}")
    reader.fieldnames = header
    ratings, skipped, seen = [], [], {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise RatingsImportError(f"line {line}: more fields than the header has")
            name = (row.get("news_source") or "").strip()
            link = (row.get("news_link") or "").strip()
            rating = (row.get("bias_rating") or "").strip()
            if not name:
                raise RatingsImportError(f"line {line}: no news_source")
            if rating.lower() not in ALLSIDES_BIAS and rating.lower() not in ALLSIDES_UNSCORED:
                raise RatingsImportError(f"line {line} ({name}): unknown bias_rating {rating!r}")
            if not link:
                skipped.append(f"line {line} ({name}): no link, cannot be matched to a site")
                continue
            try:
                key = domains.normalise_key(link)
            except InvalidURLError as exc:
                raise RatingsImportError(f"line {line} ({name}): news_link {link!r}: {exc}") from None
            if key in seen:
                skipped.append(f"line {line} ({name}): same site as line {seen[key]} ({key})")
                continue
            seen[key] = line
            ratings.append({
                "key": key, "name": name,
                "bias_score": ALLSIDES_BIAS.get(rating.lower()),
                "bias_raw": rating.lower() or None,
                "factuality": None, "url": None,
                "extra": json.dumps({"link": link}, sort_keys=True),
            })
    except csv.Error as exc:
        raise RatingsImportError(f"not a valid CSV at line {reader.line_num}: {exc}") from None
    if not ratings:
        raise RatingsImportError("the file rates no sources")
    return ParsedRatings("allsides", "AllSides", ratings, {}, skipped, hashlib.sha256(data).hexdigest())


def import_file(store, path: str | Path, fmt: str) -> dict:
    """Parse ``path`` and replace that rater's ratings in ``store``; returns counts and skipped rows."""
    parsed = parse(read_file(path), fmt)
    counts = store.replace_rater(parsed.rater, parsed.name, str(path), parsed.file_sha256,
                                 parsed.ratings, parsed.aliases)
    return {"rater": parsed.rater, **counts, "skipped": parsed.skipped}
