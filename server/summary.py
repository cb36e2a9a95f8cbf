"""An attributed, extractive summary of a story: 3-5 sentences taken verbatim from its articles.

Offline and deterministic (TF-IDF as scikit-learn weighs it, with its English stop words; no model to download).
A summary is recomputed when an article joins its story, so it has to be cheap (about 1-3 ms): each article's
candidate sentences and their words are worked out once per text and cached (``_prepared``, a pure function),
and the scoring is sparse-matrix arithmetic.

1. **Sentences.** Each article's text is split into paragraphs (lines) and sentences by ``split_sentences``,
   which knows abbreviations (``Mr.``, ``U.S.``, ``Sen.``, ``Jan.``, initials), keeps a quotation whole when
   its sentence goes on after it (``"We will win," she said.``), and gives character offsets, so a sentence is
   always an exact slice of the stored text. A dateline (``WASHINGTON --``, ``LONDON (Reuters) -``) is cut off
   the front of the first sentence (the bullet is then a contiguous span of that sentence). Boilerplate is
   left out: bylines, photo credits, "sign up", "click here", copyright lines, links, sentences whose
   quotation marks do not pair up, fragments (too short, too long, no final stop, lowercase start).
2. **Candidates.** The first ``sentences_per_article`` usable sentences of each article that counts (not a
   syndicated copy), from the top ``max_chars`` of its text, at most ``max_articles`` articles, one per outlet
   first: news writing puts the facts first.
3. **Centrality.** Sentences are weighed TF-IDF (fitted on the story's own candidates) and each is scored by
   its cosine to the *other* articles' sentences (so a point several outlets report scores high, one outlet's
   aside low), plus its similarity to the story's headlines, with a mild preference for sentences near the
   top of their article and against ones opening with a pronoun (they need the sentence before).
4. **MMR.** Bullets are picked one at a time by maximal marginal relevance: score minus the similarity to the
   closest bullet already chosen (the cosine of the words they share, unweighted: inside one story its own
   vocabulary gets a low IDF, which would make two ledes saying the same thing look different), minus a small
   penalty per bullet already taken from the same outlet; a sentence too close to a chosen one is never taken.
   When two or more outlets offer sentences, the bullets always come from at least two.

Each bullet is ``{"text", "article_id", "url", "outlet"}``; ``text`` is found verbatim in the cited article.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: Words written with a final period that do not end a sentence (compared lowercased, without the period).
ABBREVIATIONS = frozenset("""
mr mrs ms messrs dr prof sen sens rep reps gov gen lt col capt cmdr maj sgt cpl pvt adm atty supt insp det
st jr sr rev fr hon pres amb sec treas dept univ assn bros inc corp co ltd llc plc no nos vs v etc al approx est
jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
ave blvd rd hwy mt ft fig vol ed eds op cf ca
ala ariz ark calif colo conn del fla ga ill ind kan kans ky la md mass mich minn miss mo mont neb nev okla ore pa
tenn tex va vt wash wis wyo
""".split())
#: Dotted abbreviations (``U.S.``, ``a.m.``, ``e.g.``): letters separated by periods.
_DOTTED = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]?$")
#: A candidate sentence end: stops (and closing quotes or brackets) followed by space and a capital, digit or
#: an opening quote.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_TOKEN_BEFORE = re.compile(r"([\w.'’-]+)$")
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z.'’-]{2,}(?:[ ,]+[A-Z0-9][A-Za-z0-9.'’-]*){0,4}\s*(?:\([^)]{1,40}\))?|"  # RENO, Nev. (AP)
    r"\((?:AP|Reuters|AFP|CNN|UPI)\)|"  # (AP) -
    r"[A-Z][A-Za-z.'’-]+(?:[ ,]+[A-Z][A-Za-z.'’-]+){0,3}\s*\((?:CNN|AP|Reuters|AFP|UPI|Bloomberg)\))"  # (CNN)
    r"\s*(?:--|—|–|-|:)\s+(?=[\"“A-Z0-9])")
#: Lowercase phrases that mark a line as the site's furniture, not the article (checked as plain substrings).
BOILERPLATE = (
    "click here", "sign up", "subscribe", "newsletter", "read more", "advertisement", "all rights reserved",
    "copyright", "©", "getty images", "ap photo", "reuters/", "afp via", "photo:", "photograph:", "image:",
    "video:", "watch:", "listen:", "contributed to this report", "reporting by", "editing by", "writing by",
    "originally appeared", "originally published", "download the", "download our", "cookies", "terms of use",
    "terms of service", "privacy policy", "related:", "recommended:", "share this", "email us", "our podcast",
    "our app", "http:", "https:", "www.", ".com/", "|",
)
_BOILERPLATE = re.compile(r"follow (?:us|him|her|them|@)|this (?:story|article) (?:was|has been|originally)|@\w")
_BYLINE = re.compile(r"^(?:by|updated|published|posted|photo|image|source)\b", re.IGNORECASE)
_PRONOUN_START = re.compile(r"^[\"“]?(?:he|she|it|they|this|that|these|those|but|and|so|also|however|his|her|"
                            r"their|its|there|then)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def _is_abbreviation(paragraph: str, stop_at: int) -> bool:
    """Whether the period at ``stop_at`` ends an abbreviation or an initial rather than a sentence."""
    match = _TOKEN_BEFORE.search(paragraph, max(0, stop_at - 40), stop_at)  # a word is never that long
    if not match:
        return False
    token = match.group(1).lstrip("\"'“‘(").rstrip(".")
    if not token:
        return False
    if token.lower() in ABBREVIATIONS or _DOTTED.match(token + "."):
        return True
    return len(token) == 1 and token.isupper()  # an initial: "John F. Kennedy"


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` with their offsets: ``text[s.start:s.end] == s.text`` for every one."""
    return list(iter_sentences(text))


def iter_sentences(text: str) -> Iterator[Sentence]:
    """``split_sentences`` one at a time (a caller that needs the first few stops early)."""
    offset = 0
    for line in text.splitlines(keepends=True):
        start = 0
        for match in _END.finditer(line):
            if match.group(0)[0] == "." and _is_abbreviation(line, match.start()):
                continue
            end = match.end()
            if sentence := _sentence(line, start, end, offset):
                yield sentence
            start = end
        if sentence := _sentence(line, start, len(line), offset):
            yield sentence
        offset += len(line)


def _sentence(line: str, start: int, end: int, offset: int) -> Sentence | None:
    chunk = line[start:end]
    stripped = chunk.strip()
    if not stripped:
        return None
    begin = offset + start + len(chunk) - len(chunk.lstrip())
    return Sentence(begin, begin + len(stripped), stripped)


def strip_dateline(sentence: Sentence) -> Sentence:
    """The sentence without a leading dateline (``NEW YORK (Reuters) - ``): a contiguous span of it."""
    match = _DATELINE.match(sentence.text)
    if not match or len(sentence.text) - match.end() < 20:
        return sentence
    cut = match.end()
    return Sentence(sentence.start + cut, sentence.end, sentence.text[cut:])


def usable(sentence: str, *, min_words: int = 8, max_words: int = 60) -> bool:
    """Whether a sentence can stand alone as a bullet (not boilerplate, not a fragment)."""
    first = sentence.lstrip("\"'“‘(")
    if not first or not (first[0].isupper() or first[0].isdigit()):
        return False
    if sentence.rstrip("\"'”’)]")[-1:] not in (".", "!", "?") or not any(c.islower() for c in sentence):
        return False
    if not min_words <= len(_WORD.findall(sentence)) <= max_words:
        return False
    lowered = sentence.lower()
    if _BYLINE.match(sentence) or any(p in lowered for p in BOILERPLATE) or _BOILERPLATE.search(lowered):
        return False
    if sentence.count('"') % 2 or sentence.count("“") != sentence.count("”"):
        return False
    return sentence.count("(") == sentence.count(")")


@dataclass(frozen=True)
class Source:
    """An article as the summariser reads it."""

    article_id: int
    url: str
    outlet: str | None
    title: str
    text: str


@dataclass(frozen=True)
class SummaryConfig:
    max_articles: int = 16  #: articles read (one per outlet first)
    sentences_per_article: int = 6  #: usable sentences read from the top of each article
    max_chars: int = 6000  #: characters of each article read (the top of a news article holds its facts)
    min_bullets: int = 3
    max_bullets: int = 5
    mmr_lambda: float = 0.65  #: weight of relevance against redundancy
    max_similarity: float = 0.35  #: a sentence sharing this much of its words (cosine) with a bullet is not taken
    outlet_penalty: float = 0.08  #: per bullet already taken from the same outlet
    title_weight: float = 0.3  #: share of the score from similarity to the headlines


@dataclass
class _Candidate:
    source: Source
    sentence: Sentence
    position: int
    tokens: tuple[str, ...]


_TOKEN = re.compile(r"(?u)\b[^\W\d_]{2,}\b")


def tokens(text: str) -> tuple[str, ...]:
    """Lowercased words of two letters or more, English stop words left out (scikit-learn's list)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return tuple(w for w in _TOKEN.findall(text.lower()) if w not in ENGLISH_STOP_WORDS)


@lru_cache(maxsize=8192)
def _prepared(text: str, title: str, max_chars: int, per_article: int) -> tuple[tuple[Sentence, tuple[str, ...]], ...]:
    """An article's candidate sentences with their words, computed once per text: a story's summary is
    recomputed whenever an article joins, from the same texts (a pure function of its arguments)."""
    out = []
    folded_title = title.casefold()
    for index, sentence in enumerate(iter_sentences(text[:max_chars])):
        if index == 0:
            sentence = strip_dateline(sentence)
        if not usable(sentence.text) or sentence.text.casefold() == folded_title:
            continue
        out.append((sentence, tokens(sentence.text)))
        if len(out) >= per_article:
            break
    return tuple(out)


def candidates(sources: Sequence[Source], config: SummaryConfig) -> list[_Candidate]:
    return [_Candidate(source, sentence, position, words)
            for source in sources[:config.max_articles]
            for position, (sentence, words) in enumerate(
                _prepared(source.text, source.title, config.max_chars, config.sentences_per_article))]


def bullet_count(n_outlets: int, config: SummaryConfig) -> int:
    """3 bullets for a story of up to 3 outlets, 4 up to 6, 5 beyond."""
    wanted = config.min_bullets + (n_outlets > 3) + (n_outlets > 6)
    return max(config.min_bullets, min(config.max_bullets, wanted))


def order_sources(sources: Sequence[Source], limit: int) -> list[Source]:
    """One article per outlet first (in the given order), then the rest, at most ``limit``."""
    first, rest, seen = [], [], set()
    for source in sources:
        key = source.outlet or source.url
        (rest if key in seen else first).append(source)
        seen.add(key)
    return (first + rest)[:limit]


def summarize(sources: Sequence[Source], config: SummaryConfig | None = None) -> list[dict]:
    """3-5 bullets, each a sentence of one of ``sources`` (in publication order) with its citation; [] when the
    story has fewer than two outlets or nothing usable."""
    from scipy import sparse

    config = config or SummaryConfig()
    sources = order_sources(sources, config.max_articles)
    if len({s.outlet or s.url for s in sources}) < 2:
        return []
    pool = candidates(sources, config)
    if not pool:
        return []
    texts = [c.sentence.text for c in pool]
    # TF-IDF over the story's candidate sentences, from the cached words
    vocabulary: dict[str, int] = {}
    title_words = [tokens(s.title) for s in sources]
    counts = _counts([c.tokens for c in pool], vocabulary, grow=True)
    if not vocabulary:  # nothing but stop words
        return []
    idf = np.log((1 + counts.shape[0]) / (1 + np.bincount(counts.indices, minlength=counts.shape[1]))) + 1
    x = _weigh(counts, idf)  # sparse, rows L2-normalised
    titles = np.asarray(_weigh(_counts(title_words, vocabulary, grow=False), idf).sum(axis=0)).ravel()
    title_norm = np.linalg.norm(titles)

    # centrality: each sentence's cosine to the sum of the *other* outlets' sentences, all at once
    outlet_of = [c.source.outlet or c.source.url for c in pool]
    outlets = list(dict.fromkeys(outlet_of))
    column = {o: k for k, o in enumerate(outlets)}
    owner = np.array([column[o] for o in outlet_of])
    membership = sparse.csr_matrix((np.ones(len(pool)), (owner, np.arange(len(pool)))),
                                   shape=(len(outlets), len(pool)))
    by_outlet = np.asarray((membership @ x).todense())  # outlets x terms
    others = by_outlet.sum(axis=0)[None, :] - by_outlet  # per outlet: everyone else's sentences
    other_norms = np.linalg.norm(others, axis=1)
    dots = np.asarray(x @ others.T)[np.arange(len(pool)), owner]
    central = np.divide(dots, other_norms[owner], out=np.zeros(len(pool)), where=other_norms[owner] > 0)
    headline = np.asarray(x @ titles).ravel() / title_norm if title_norm else np.zeros(len(pool))
    scores = (1 - config.title_weight) * central + config.title_weight * headline
    scores /= 1 + 0.06 * np.array([c.position for c in pool])
    scores *= np.array([0.75 if _PRONOUN_START.match(t) else 1.0 for t in texts])
    if scores.max() > 0:
        scores = scores / scores.max()

    # redundancy: the words two sentences share, unweighted (see the module's docstring)
    words = (x > 0).astype(np.float64)
    words = sparse.diags(1 / np.sqrt(np.maximum(words.sum(axis=1).A1, 1))) @ words
    redundancy = np.zeros(len(pool))  # to the closest bullet chosen so far
    blocked = np.zeros(len(pool), dtype=bool)
    folded = [t.casefold() for t in texts]

    wanted = min(bullet_count(len(outlets), config), len(pool))
    chosen: list[int] = []
    taken = np.zeros(len(outlets))
    force_other = len(outlets) > 1
    while len(chosen) < wanted:
        value = (config.mmr_lambda * scores - (1 - config.mmr_lambda) * redundancy
                 - config.outlet_penalty * taken[owner])
        allowed = ~blocked & (redundancy <= config.max_similarity)
        if force_other and len(chosen) == 1:  # make sure a second outlet gets a bullet
            allowed_other = allowed & (owner != owner[chosen[0]])
            if allowed_other.any():
                allowed = allowed_other
        if not allowed.any():
            break
        best = int(np.argmax(np.where(allowed, value, -np.inf)))
        chosen.append(best)
        taken[owner[best]] += 1
        blocked |= np.array([f == folded[best] for f in folded])
        redundancy = np.maximum(redundancy, np.asarray((words @ words[best].T).todense()).ravel())
    return [{"text": pool[i].sentence.text, "article_id": pool[i].source.article_id, "url": pool[i].source.url,
             "outlet": pool[i].source.outlet} for i in chosen]


def _counts(rows: Sequence[Sequence[str]], vocabulary: dict[str, int], *, grow: bool):
    """A sparse document-term count matrix of ``rows`` (words); ``grow`` adds unseen words to ``vocabulary``."""
    from scipy import sparse

    indices, indptr = [], [0]
    for words in rows:
        for word in words:
            column = vocabulary.get(word)
            if column is None and grow:
                column = vocabulary[word] = len(vocabulary)
            if column is not None:
                indices.append(column)
        indptr.append(len(indices))
    matrix = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows), max(len(vocabulary), 1)))
    matrix.sum_duplicates()
    return matrix


def _weigh(counts, idf: np.ndarray):
    """TF-IDF rows, L2-normalised: ``(1 + log tf) * idf`` with the smoothed IDF, as scikit-learn's
    ``TfidfTransformer(sublinear_tf=True)`` computes it (without its input validation, which cost more than
    the arithmetic on every summary)."""
    weighted = counts.copy()
    weighted.data = (1 + np.log(weighted.data)) * idf[weighted.indices]
    rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
    norms = np.sqrt(np.bincount(rows, weights=weighted.data ** 2, minlength=weighted.shape[0]))
    weighted.data /= np.where(norms > 0, norms, 1)[rows]
    return weighted
