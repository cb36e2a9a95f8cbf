"""Syndicated copies: the same wire story (AP, Reuters, a partner's piece) published by several outlets.

Every article's text is normalised (lowercased words, punctuation and markup gone) and cut into overlapping
5-word shingles. Two signatures are stored:

* ``articles.fingerprint``: the SHA-256 of the normalised text (64 hex digits). Identical copies share it.
* MinHash locality-sensitive hashing for near-identical copies (a site trimmed the last paragraphs, added a
  byline or an editor's note, edited the headline): 48 MinHash values in 16 bands of 3, each band hashed to one
  64-bit key in ``syndication_bands``. Texts whose shingle sets overlap a lot share a band key with high
  probability (resemblance 0.5: 88 %, 0.6: 98 %, 0.3: 35 %, 0.1: 2 %), so candidates come from an index
  lookup, never a scan.

Candidates are then checked exactly: an article is a copy when at least ``threshold`` (0.8) of the shorter
text's shingles occur in the other text (containment, so a trimmed copy still counts). Texts shorter than
``min_words`` (60) are never marked: a two-line feed summary is not evidence of syndication.

The convention the coverage code relies on: ``articles.syndicated_of`` of a copy holds the id of the *first*
article of its copy set to be processed (in bulk imports the earliest published, live the first to arrive),
and that original keeps ``syndicated_of`` NULL. Chains never form: a copy of a copy points at the original.
The copy stays a member of its story (the clusterer puts it in the original's story) and is shown there as
"also carried by"; it does not count as its outlet's coverage in the distribution.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from .storage import articles
from .storage.fastsql import Statements

LOGGER = logging.getLogger(__name__)

SHINGLE_WORDS = 5
BANDS = 16
ROWS = 3
MAX_WORDS = 1500

_WORDS = re.compile(r"[^\W_]+")
_P = sa.bindparam
_Q_TEXTS = (sa.select(articles.c.id, articles.c.text, articles.c.syndicated_of)
            .where(articles.c.id.in_(_P("ids", expanding=True))))
_SQL = {
    "candidates": "SELECT article_id FROM syndication_bands WHERE band_key IN {list:keys} AND article_id <> :exclude "
                  "GROUP BY article_id ORDER BY COUNT(*) DESC, article_id LIMIT :n",
}
_SQL_BY_BACKEND = {
    "sqlite": {"index": "INSERT INTO syndication_bands (band_key, article_id) SELECT value, :aid "
                        "FROM json_each(:keys) WHERE true ON CONFLICT DO NOTHING"},
    "postgresql": {"index": "INSERT INTO syndication_bands (band_key, article_id) SELECT k, :aid "
                            "FROM unnest(CAST(:keys AS bigint[])) AS u(k) ON CONFLICT DO NOTHING"},
}
_STATEMENTS: dict[str, Statements] = {}


def _statements(conn) -> Statements:
    backend = conn.dialect.name
    if backend not in _STATEMENTS:
        _STATEMENTS[backend] = Statements(backend, {**_SQL, **_SQL_BY_BACKEND[backend]})
    return _STATEMENTS[backend]


_MARK = articles.update().where(articles.c.id == _P("aid")).values(fingerprint=_P("fp"), syndicated_of=_P("orig"))


def _coefficients() -> tuple[np.ndarray, np.ndarray]:
    """The MinHash functions ``h(x) = ((a*x + b) mod 2**64) >> 32`` (multiply-add-shift, a universal family for
    32-bit keys, Dietzfelbinger 1996): fixed, so signatures compare across processes and versions."""
    raw = hashlib.shake_128(b"newstilt-minhash-v2").digest(BANDS * ROWS * 16)
    values = np.frombuffer(raw, dtype="<u8").astype(np.uint64)
    a, b = values[0::2], values[1::2]
    return a | np.uint64(1), b


_A, _B = _coefficients()
_SHIFT = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
#: Odd multiplier of the polynomial byte hash, and its inverse modulo 2**64.
_R = 0x9E3779B97F4A7C15
_R_INVERSE = pow(_R, -1, 1 << 64)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def normalised_words(text: str) -> list[str]:
    return _WORDS.findall((text or "")[:MAX_WORDS * 12].lower())[:MAX_WORDS]


def fingerprint(text: str) -> str:
    """SHA-256 (hex) of the normalised text: equal for copies that differ only in case, spacing or punctuation."""
    return hashlib.sha256(" ".join(normalised_words(text)).encode()).hexdigest()


def _powers(base: int, n: int) -> np.ndarray:
    """``base ** i mod 2**64`` for ``i`` in ``0..n-1`` (numpy's uint64 arithmetic wraps modulo 2**64)."""
    out = np.full(n, base, dtype=np.uint64)
    out[0] = 1
    return np.cumprod(out, dtype=np.uint64)


def shingles(words: list[str]) -> np.ndarray:
    """The distinct 64-bit hashes of the text's 5-word shingles (stable across processes).

    A shingle's hash is a polynomial hash of its bytes in ``" ".join(words)``, mixed by the splitmix64
    finaliser. All of it is array arithmetic over the joined text: prefix sums of ``byte * R**i`` give the
    hash of any span as ``(P[end] - P[start]) * R**-start``, so no word is hashed in Python.
    """
    if not words:
        return np.zeros(0, dtype=np.uint64)
    data = np.frombuffer(" ".join(words).encode(), dtype=np.uint8)
    n = len(data)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(data.astype(np.uint64) * _powers(_R, n), out=prefix[1:], dtype=np.uint64)
        spaces = np.flatnonzero(data == 32)
        starts = np.concatenate(([0], spaces + 1))
        ends = np.concatenate((spaces, [n]))
        width = min(SHINGLE_WORDS, len(words))
        first, last = starts[: len(words) - width + 1], ends[width - 1:]
        h = (prefix[last] - prefix[first]) * _powers(_R_INVERSE, int(first[-1]) + 1)[first]
        h += (last - first).astype(np.uint64)  # and its length in bytes
        h ^= h >> np.uint64(30)
        h *= _MIX1
        h ^= h >> np.uint64(27)
        h *= _MIX2
        h ^= h >> np.uint64(31)
    return np.unique(h)


def band_keys(shingle_hashes: np.ndarray) -> list[int]:
    """The 16 LSH band keys (signed 64-bit integers) of a text's shingle hashes."""
    low = shingle_hashes & _LOW32
    with np.errstate(over="ignore"):
        values = np.outer(_A, low)
        values += _B[:, None]
        values >>= _SHIFT
    signature = values.min(axis=1)
    keys = []
    for band in range(BANDS):
        chunk = signature[band * ROWS:(band + 1) * ROWS].astype("<u8").tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller set's shingles found in the other (both sorted and distinct)."""
    if not len(a) or not len(b):
        return 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / min(len(a), len(b))


@dataclass(frozen=True)
class Copy:
    """An article found to be a copy: the original's id and how much of the shorter text the two share."""

    original_id: int
    containment: float


class Deduper:
    """Finds and records syndicated copies; all methods work inside the caller's transaction."""

    def __init__(self, *, min_words: int = 60, threshold: float = 0.8, max_candidates: int = 20):
        self.min_words = min_words
        self.threshold = threshold
        self.max_candidates = max_candidates

    def find(self, conn, text: str, *, exclude: int | None = None) -> tuple[Copy | None, list[int], str]:
        """(the stored original ``text`` copies or None, the text's band keys ([] if too short), fingerprint)."""
        words = normalised_words(text)
        digest = hashlib.sha256(" ".join(words).encode()).hexdigest()
        if len(words) < self.min_words:
            return None, [], digest
        own = shingles(words)
        keys = band_keys(own)
        sql = _statements(conn)
        candidate_ids = [row[0] for row in sql.run(conn, "candidates", {
            "keys": sql.array(keys), "exclude": -1 if exclude is None else exclude, "n": self.max_candidates})]
        if not candidate_ids:
            return None, keys, digest
        rows = conn.execute(_Q_TEXTS, {"ids": candidate_ids}).all()
        best: Copy | None = None
        for row in rows:
            share = containment(own, shingles(normalised_words(row.text)))
            if share < self.threshold:
                continue
            original = row.syndicated_of if row.syndicated_of is not None else row.id
            if best is None or original < best.original_id:
                best = Copy(original, share)
        return best, keys, digest

    def mark(self, conn, article_id: int, text: str) -> Copy | None:
        """Fingerprint a stored article, index it, and mark it as a copy when it is one; returns the Copy."""
        copy, keys, digest = self.find(conn, text, exclude=article_id)
        if copy is not None:
            LOGGER.debug("article %s is a copy of %s (%.2f)", article_id, copy.original_id, copy.containment)
        conn.execute(_MARK, {"aid": article_id, "fp": digest, "orig": copy.original_id if copy else None})
        self.index(conn, article_id, keys)
        return copy

    def index(self, conn, article_id: int, keys: list[int]) -> None:
        """Record an article's band keys (from ``find``) so later copies find it."""
        if not keys:
            return
        sql = _statements(conn)
        sql.run(conn, "index", {"aid": article_id, "keys": sql.array(sorted(set(keys)))})
