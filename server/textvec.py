"""Text to terms for story clustering: tokens, light stemming, capitalised-name bigrams, TF-IDF weights.

Plain Python (no model, no download), deterministic across processes, fast enough to run on every article:

* the headline and the first ``max_words`` words of the text are read (the lede says what the story is about;
  the tail of a long article drifts to background and opinion);
* words are lowercased, possessives dropped (``Trump's`` -> ``trump``), stop words and reporting verbs removed
  (``STOP_WORDS``), plurals folded by a light S-stemmer (``caravans`` -> ``caravan``, ``policies`` ->
  ``policy``); numbers of two or more characters are kept (``2,500``, ``13``, ``2016`` help tell events apart);
* two adjacent capitalised words inside a sentence also give a name term, ``donald_trump``, ``supreme_court``,
  ``kim_jong``, because names pin an event far better than their parts;
* Chinese, Japanese and Korean text, written without spaces between words (or, in Korean, with particles
  glued to them), gives overlapping character bigrams of each run of Han, kana or Hangul characters
  (``日本政府`` -> ``日本``, ``本政``, ``政府``), the standard way to index these scripts without a dictionary
  (Lucene's CJK bigram analyser); numbers and Latin names inside such text are terms as everywhere;
* headline terms count ``title_weight`` times (editors put the event in the headline);
* a term weighs ``(1 + log tf) * idf`` with ``idf = log((N + 1) / (df + 1)) + 1`` from document frequencies
  the caller supplies (the clusterer keeps them in the database), and the vector is L2-normalised.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping

#: Function words, reporting verbs and calendar words: frequent in every story, so they say nothing about which.
STOP_WORDS = frozenset("""
a about above across after afterwards again against ago all almost alone along already also although always am
among amongst an and another any anyhow anyone anything anyway anywhere are aren around as at away be became
because become becomes becoming been before beforehand behind being below beside besides between beyond both
but by can cannot cant could couldn did didn do does doesn doing don done down during each either else
elsewhere enough etc even ever every everyone everything everywhere except few for from further get gets getting
go goes going gone got had hadn has hasn have haven having he hence her here hers herself him himself his how
however i if in inc indeed into is isn it its itself just least less like ll ltd many may maybe me meanwhile
might mine more moreover most mostly much must my myself namely neither never nevertheless no nobody none noone
nor not nothing now nowhere of off often on once one only onto or other others otherwise our ours ourselves out
over own per perhaps please quite rather re really s same shall she should since so some somehow someone
something sometime sometimes somewhere still such t than that the their theirs them themselves then thence
there thereafter thereby therefore therein thereupon these they this those though through throughout thru thus
to together too toward towards under unless until up upon very via was wasn we were weren what whatever when
whence whenever where whereas whereby wherein whereupon wherever whether which while who whoever whole whom
whose why will with within without won would wouldn yet you your yours yourself yourselves ve d m
said say says saying told tell tells according asked added adding noted including include includes included
mr mrs ms dr new news year years day days week weeks month months time times today yesterday tomorrow
monday tuesday wednesday thursday friday saturday sunday
january february march april june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
make makes making made want wants wanted think thinks know knows come comes came take takes took
way ways thing things lot lots people percent https http www com
""".split())

#: Longer "words" are URLs, hashes or glued markup, never a story's subject.
MAX_TERM_LENGTH = 40

_SPLIT = re.compile(r"([^\W_]+(?:['’][^\W_]+)*)")
_SENTENCE_BREAK = re.compile(r"[.,!?;:\"“”()\[\]|—–]")
_DIGITS = re.compile(r"\d")
#: Han ideographs, hiragana, katakana and Hangul syllables: scripts indexed by character bigrams.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def stem(word: str) -> str:
    """A light S-stemmer (Harman 1991): fold plurals only, so terms stay readable in explanations."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")) and word[-3] in "sxz":
        return word[:-2]
    return word[:-1]


def _normal_uncached(token: str) -> str | None:
    word = token.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    if len(word) < 2 or len(word) > MAX_TERM_LENGTH or word in STOP_WORDS:
        return None
    if _DIGITS.search(word):
        return word
    return stem(word)


_NORMAL_CACHE: dict[str, str | None] = {}
_NORMAL_CACHE_SIZE = 200_000


def _normal(token: str) -> str | None:
    """A word's term, or None for stop words, single characters and possessive leftovers (memoised)."""
    try:
        return _NORMAL_CACHE[token]
    except KeyError:
        pass
    if len(_NORMAL_CACHE) >= _NORMAL_CACHE_SIZE:
        _NORMAL_CACHE.clear()
    term = _NORMAL_CACHE[token] = _normal_uncached(token)
    return term


def terms(text: str, *, max_words: int | None = None) -> list[str]:
    """The terms of ``text`` (its first ``max_words`` words), names as ``first_second`` bigrams."""
    if max_words is not None:
        text = text[:max_words * 16]  # generous: words average ~6 characters with their spacing
    parts = _SPLIT.split(text)  # [gap, word, gap, word, ..., gap]
    words = parts[1::2]
    gaps = parts[0::2]
    if max_words is not None:
        words = words[:max_words]
    out: list[str] = []
    append = out.append
    prev_cap: str | None = None  # the previous word's term when it was capitalised
    for i, token in enumerate(words):
        if _CJK.search(token):
            out.extend(_cjk_terms(token))
            prev_cap = None
            continue
        term = _normal(token)
        if term is None:
            prev_cap = None
            continue
        append(term)
        if token[0].isupper() and not term.isdigit():
            if prev_cap is not None:
                gap = gaps[i]
                if "\n" not in gap and not _SENTENCE_BREAK.search(gap):
                    append(f"{prev_cap}_{term}")
            prev_cap = term
        else:
            prev_cap = None
    return out


def _cjk_terms(token: str) -> list[str]:
    """Character bigrams of the CJK runs of a token, and the terms of what lies between them (numbers, Latin
    words); a lone CJK character between others gives no term (one character says little)."""
    out: list[str] = []
    position = 0
    for run in _CJK.finditer(token):
        rest = token[position:run.start()]
        if rest:
            term = _normal(rest)
            if term is not None:
                out.append(term)
        chars = run.group()
        out.extend(chars[i:i + 2] for i in range(len(chars) - 1))
        position = run.end()
    rest = token[position:]
    if rest:
        term = _normal(rest)
        if term is not None:
            out.append(term)
    return out


def term_counts(title: str, text: str, *, title_weight: float = 3.0, max_words: int = 400) -> dict[str, float]:
    """Weighted term frequencies of an article: headline terms count ``title_weight`` times."""
    counts: dict[str, float] = dict(Counter(terms(text or "", max_words=max_words)))
    for term, n in Counter(terms(title or "")).items():
        counts[term] = counts.get(term, 0.0) + title_weight * n
    return counts


def idf(df: int, n_docs: int) -> float:
    return math.log((n_docs + 1) / (df + 1)) + 1.0


def weigh(counts: Mapping[str, float], df: Mapping[str, int], n_docs: int, *,
          top: int | None = None) -> dict[str, float]:
    """TF-IDF weights, L2-normalised, keeping the ``top`` heaviest terms (all when None)."""
    weights = {t: (1.0 + math.log(c)) * idf(df.get(t, 0), n_docs) for t, c in counts.items() if c > 0}
    if top is not None:
        weights = top_terms(weights, top)
    return normalise(weights)


def normalise(vector: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {t: w / norm for t, w in vector.items()} if norm else dict(vector)


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two sparse vectors (neither needs to be normalised)."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b[t] for t, w in a.items() if t in b)
    if not dot:
        return 0.0
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb)


def top_terms(vector: Mapping[str, float], k: int) -> dict[str, float]:
    if len(vector) <= k:
        return dict(vector)
    return dict(sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[:k])


def shared_terms(a: Mapping[str, float], b: Mapping[str, float], k: int = 8) -> tuple[str, ...]:
    """The ``k`` terms contributing most to the cosine of ``a`` and ``b``, heaviest first."""
    common = sorted(((a[t] * b[t], t) for t in a.keys() & b.keys()), key=lambda x: (-x[0], x[1]))
    return tuple(t for _, t in common[:k])
