"""Build, train, predict and explain: one scikit-learn ``Pipeline`` of built-in steps (or two, one per view).

The fitted pipeline is ``counts`` (:class:`~sklearn.feature_extraction.text.CountVectorizer` with a fixed
vocabulary) -> ``tfidf`` (:class:`~sklearn.feature_extraction.text.TfidfTransformer`) -> ``clf``
(:class:`~sklearn.linear_model.LogisticRegression`). It reads *neutralised* documents (see
:mod:`classifier.data`); the neutralisation is plain code run before the pipeline, identically when training
and scoring. With ``raw_view`` a second pipeline of the same steps reads the plain document with
scikit-learn's tokens, and the two logistic regressions' logits are added (a product of the two views).

Training hands the built-in steps what plain code chose: the vocabulary (document frequency between
``min_df`` and ``max_df``, the ``max_features`` most frequent; optionally only terms used by ``min_outlets``
outlets and the ``max_terms`` that best separate the sides across outlets), sample weights (optionally
``1 / n_outlet_articles ** power``) and, after fitting, the temperature that calibrates the probabilities
(:func:`apply_temperature`). :data:`DEFAULT_PARAMS` says which are on and the model card why.
"""
from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .data import (
    LABELS,
    TOKEN_PATTERN,
    TOKEN_RE,
    compose,
    english_ratio,
    kept_segments,
    neutralise,
)
from .errors import TrainingDataError

LOGGER = logging.getLogger(__name__)

#: Identifies the layout of the pickle and its metadata; bump it when either changes.
FORMAT = "newstilt-classifier/1"

#: The parameters :func:`train` uses unless told otherwise; the table in ``MODEL_CARD.md`` says why.
DEFAULT_PARAMS: dict = {
    "neutralise": True,  # drop outlet names, bylines and boilerplate before counting (classifier.data)
    "digits": False,  # tokens: words of 2+ letters (False) or of 2+ letters or digits (True, scikit-learn's)
    "ngram_max": 2,  # word 1..n-grams
    "min_df": 3,  # a term must occur in this many training articles...
    "max_df": 0.5,  # ...and in at most this share of them
    "max_features": 300_000,  # then the most frequent terms (as TfidfVectorizer's max_features)
    "min_outlets": 1,  # 0.1.0: terms used by 10+ outlets; lost on the largest held-out outlets (model card)
    "max_terms": None,  # 0.1.0: 30,000 terms ranked by a between-outlet ANOVA; lost on both protocols
    "selection_min_articles": 5,  # outlets with fewer articles do not vote in that ranking
    "drop_stop_words": False,  # 0.1.0: no term made only of English function words
    "sublinear_tf": True,  # 1 + log(tf)
    "C": 4.0,  # inverse L2 strength of the logistic regression
    "class_weight": None,  # or "balanced"
    "outlet_weight_power": 0.0,  # sample weight 1 / n_outlet_articles ** power; 0.1.0 used 1 and lost 3 points
    "max_iter": 100,  # lbfgs iterations: scikit-learn's default, as the baseline has it
    "raw_view": True,  # also a second view: the raw text with digits (RAW_VIEW), its logits added to these
}

#: What the raw view changes in the parameters: the plain document, scikit-learn's tokens (digits kept).
RAW_VIEW = {"neutralise": False, "digits": True, "raw_view": False}


def raw_view_params(params: dict) -> dict:
    """The raw view's parameters: ``params`` with :data:`RAW_VIEW` over them."""
    return {**params, **RAW_VIEW}

#: Word tokens below this count: still scored, with a warning that the figure means little.
SHORT_WORDS = 50
#: Documents of at least ``LANGUAGE_MIN_WORDS`` words whose share of English function words is below
#: ``ENGLISH_MIN_RATIO`` are refused as not English: English news prose sits around 0.3-0.5 (the lowest of the
#: 33,711 development articles, a list of damaged buildings, scores 0.106); French, German, Spanish, Italian under 0.07.
LANGUAGE_MIN_WORDS = 20
ENGLISH_MIN_RATIO = 0.10


def resolve_params(params: dict | None) -> dict:
    """``DEFAULT_PARAMS`` updated with ``params``; unknown keys are an error, not a silent no-op."""
    merged = dict(DEFAULT_PARAMS)
    for key, value in (params or {}).items():
        if key not in DEFAULT_PARAMS:
            raise ValueError(f"unknown classifier parameter {key!r}; known: {', '.join(DEFAULT_PARAMS)}")
        merged[key] = value
    return merged


def outlet_weights(domains: Sequence[str], power: float) -> np.ndarray:
    """Per-article sample weights ``1 / n ** power`` (``n`` = the outlet's articles), normalised to mean 1."""
    counts = Counter(domains)
    weights = np.array([1.0 / counts[domain] ** power for domain in domains], dtype=np.float64)
    return weights * (len(weights) / weights.sum())


#: scikit-learn's default token: two or more word characters, digits included.
DIGITS_PATTERN = r"(?u)\b\w\w+\b"


_DIGITS_RE = re.compile(DIGITS_PATTERN)


def token_pattern(params: dict) -> str:
    """The token regex of ``params``: :data:`~classifier.data.TOKEN_PATTERN` (letters only) unless ``digits``."""
    return DIGITS_PATTERN if params.get("digits") else TOKEN_PATTERN


def documents(records: Sequence[dict], params: dict, *, progress: bool = False) -> list[str]:
    """What the model reads of each record: neutralised (``params["neutralise"]``) or the plain document."""
    if params.get("neutralise", True):
        return neutralise_all(records, progress=progress)
    return [compose(record["title"], record["text"])[0] for record in records]


def count_vectorizer(params: dict, vocabulary: dict[str, int] | None = None, **overrides) -> CountVectorizer:
    """The tokeniser every step shares: lower-cased tokens of :func:`token_pattern`, 1..``ngram_max``-grams."""
    options = dict(
        token_pattern=token_pattern(params),
        lowercase=True,
        ngram_range=(1, int(params["ngram_max"])),
        vocabulary=vocabulary,
        dtype=np.float64,
    )
    options.update(overrides)
    return CountVectorizer(**options)


def tokenize(docs: Iterable[str], params: dict, *, min_df: int = 2) -> tuple[sp.csr_matrix, np.ndarray]:
    """``(counts, terms)`` of ``docs``: one tokenising pass that folds and evaluation then slice by column.

    Selecting the columns whose training-fold document frequency passes ``min_df``/``max_df`` afterwards gives
    exactly the counts a vectoriser fitted on that fold alone would give (for any ``min_df >= 2``).
    """
    vectorizer = count_vectorizer(params, min_df=min_df)
    counts = vectorizer.fit_transform(docs).tocsr()
    return counts, vectorizer.get_feature_names_out()


def select_terms(counts: sp.csr_matrix, domains: Sequence[str], labels: Sequence[str], params: dict,
                 terms: Sequence[str] | None = None) -> np.ndarray:
    """Indices of the columns of ``counts`` kept as vocabulary.

    0. with ``drop_stop_words`` (and the column ``terms`` given), no term made only of scikit-learn's English
       stop words: how often a writer uses function words is a classic trace of style (authorship attribution
       rests on it), not of stance, and "is" or "of the" explains nothing to a reader;
    1. document frequency between ``min_df`` and ``max_df``;
    2. used by at least :func:`effective_min_outlets` distinct outlets;
    3. if ``max_terms``: the ``max_terms`` terms whose use differs most *between sides* relative to how much it
       differs *between outlets of the same side* (a one-way ANOVA F over outlets, each outlet with at least
       ``selection_min_articles`` articles summarised by the share of its articles that use the term). A
       term every right-rated outlet uses more than every left-rated one scores high; a term one outlet
       uses a lot scores low.
    """
    n_docs = counts.shape[0]
    present = counts.copy()
    present.data = np.ones_like(present.data)
    df = np.asarray(present.sum(axis=0)).ravel()
    max_df = params["max_df"] * n_docs if isinstance(params["max_df"], float) else params["max_df"]
    allowed = (df >= params["min_df"]) & (df <= max_df)
    if params["drop_stop_words"] and terms is not None:
        allowed &= ~stop_word_terms(terms)
    keep = np.flatnonzero(allowed)
    outlets, rows, sizes = np.unique(np.asarray(domains), return_inverse=True, return_counts=True)
    membership = sp.csr_matrix((np.ones(n_docs), (rows, np.arange(n_docs))), shape=(len(outlets), n_docs))
    min_outlets = effective_min_outlets(domains, labels, params["min_outlets"])
    if params.get("max_features") and keep.size > params["max_features"]:
        keep = keep[_most_frequent(counts[:, keep], params["max_features"])]
    if min_outlets > 1 and keep.size:
        used = membership @ present[:, keep]
        used.data = np.ones_like(used.data)
        keep = keep[np.asarray(used.sum(axis=0)).ravel() >= min_outlets]
    if params["max_terms"] and keep.size > params["max_terms"]:
        keep = _rank_by_outlet_anova(present, keep, membership, sizes, rows, labels, params)
    if not keep.size:
        raise TrainingDataError("no term passes the vocabulary filters; more (or longer) articles are needed")
    return keep


def _most_frequent(counts: sp.csr_matrix, limit: int) -> np.ndarray:
    """Sorted indices of the ``limit`` columns with the largest total count (TfidfVectorizer's
    ``max_features``)."""
    totals = np.asarray(counts.sum(axis=0)).ravel()
    return np.sort(np.argsort(-totals, kind="stable")[:limit])


def stop_word_terms(terms: Sequence[str]) -> np.ndarray:
    """Boolean mask: which of ``terms`` (words or space-joined phrases) consist only of English stop words."""
    return np.fromiter((all(word in ENGLISH_STOP_WORDS for word in str(term).split(" ")) for term in terms),
                       dtype=bool, count=len(terms))


def effective_min_outlets(domains: Sequence[str], labels: Sequence[str], min_outlets: int) -> int:
    """``min_outlets``, capped at half the outlets of the side with the fewest (at least 1).

    On a large corpus (the development data has 60+ outlets a side) the cap never bites. On a small store, say
    six outlets a side, a term half a side's outlets use is already evidence of the side, not of one outlet;
    without the cap such a corpus would have no vocabulary at all.
    """
    per_side = Counter(label for _, label in set(zip(domains, labels, strict=True)))
    fewest = min((per_side.get(label, 0) for label in LABELS), default=0)
    capped = max(1, -(-fewest // 2))
    if capped < min_outlets:
        LOGGER.info("min_outlets %d capped at %d: the smallest side has %d outlets", min_outlets, capped, fewest)
    return min(int(min_outlets), capped)


def _rank_by_outlet_anova(present, keep, membership, sizes, rows, labels, params) -> np.ndarray:
    labels = np.asarray(labels)
    outlet_label = np.empty(len(sizes), dtype=object)
    outlet_label[rows] = labels
    big = sizes >= params["selection_min_articles"]
    groups = [np.flatnonzero(big & (outlet_label == label)) for label in LABELS]
    if min(len(group) for group in groups) < 2:
        LOGGER.warning("too few outlets with %d+ articles per side to rank terms; keeping all %d",
                       params["selection_min_articles"], keep.size)
        return keep
    shares = (membership[big] @ present[:, keep]).toarray() / sizes[big][:, None]
    index = {outlet: position for position, outlet in enumerate(np.flatnonzero(big))}
    grand = shares.mean(axis=0)
    between = np.zeros(keep.size)
    within = np.zeros(keep.size)
    for group in groups:
        block = shares[[index[outlet] for outlet in group]]
        mean = block.mean(axis=0)
        between += len(group) * (mean - grand) ** 2
        within += ((block - mean) ** 2).sum(axis=0)
    n_outlets = shares.shape[0]
    f_stat = (between / (len(LABELS) - 1)) / (within / (n_outlets - len(LABELS)) + 1e-12)
    best = np.argsort(-f_stat, kind="stable")[: params["max_terms"]]
    return np.sort(keep[best])


def fit_from_counts(
    counts: sp.csr_matrix, terms: np.ndarray, labels: Sequence[str], domains: Sequence[str], params: dict
) -> tuple[Pipeline, np.ndarray]:
    """``(fitted pipeline, kept column indices)`` from pre-tokenised training ``counts`` (rows = articles,
    columns = ``terms``). Column ``keep[i]`` of ``counts`` is term ``i`` of the pipeline's vocabulary."""
    keep = select_terms(counts, domains, labels, params, terms)
    vocabulary = {str(term): index for index, term in enumerate(terms[keep])}
    counts_step = count_vectorizer(params, vocabulary=vocabulary)
    counts_step.fit([""])  # a fixed vocabulary: fitting only validates it
    tfidf = TfidfTransformer(sublinear_tf=bool(params["sublinear_tf"]))
    clf = LogisticRegression(
        C=float(params["C"]), class_weight=params["class_weight"], max_iter=int(params["max_iter"])
    )
    features = tfidf.fit_transform(counts[:, keep])
    weights = outlet_weights(domains, float(params["outlet_weight_power"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(features, np.asarray(labels), sample_weight=weights)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        LOGGER.info("lbfgs stopped at max_iter=%d before its tolerance (as the baseline's does)", clf.max_iter)
    if list(clf.classes_) != sorted(LABELS):
        raise TrainingDataError(f"training data must contain all of {LABELS}, found {list(clf.classes_)}")
    return Pipeline([("counts", counts_step), ("tfidf", tfidf), ("clf", clf)]), keep


def logits_counts(pipeline: Pipeline, counts: sp.csr_matrix) -> np.ndarray:
    """The logistic regression's logits (columns in :data:`LABELS` order) for rows already counted on the
    pipeline's vocabulary."""
    scores = pipeline[-1].decision_function(pipeline[1:-1].transform(counts))
    order = [list(pipeline.classes_).index(label) for label in LABELS]
    return scores[:, order]


def apply_temperature(pipeline: Pipeline, temperature: float) -> None:
    """Divide the logistic regression's weights by ``temperature``: ``softmax(logits / T)``, the calibrated
    probabilities, from the plain built-in step; the labels do not change."""
    clf = pipeline.named_steps["clf"]
    clf.coef_ = clf.coef_ / temperature
    clf.intercept_ = clf.intercept_ / temperature


def predict_counts(pipeline: Pipeline, counts: sp.csr_matrix) -> np.ndarray:
    """Probabilities (columns in :data:`LABELS` order) for rows already counted on the pipeline's vocabulary."""
    probabilities = pipeline[1:].predict_proba(counts)
    order = [list(pipeline.classes_).index(label) for label in LABELS]
    return probabilities[:, order]


# ------------------------------------------------------------------------------------------------- scoring
@dataclass
class ScoringModel:
    """A fitted pipeline and its metadata; :meth:`score` rates one article."""

    pipeline: Pipeline
    metadata: dict = field(default_factory=dict)
    #: The raw view (``raw_view``): a pipeline of the same steps over the plain document, or None.
    raw: Pipeline | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return LABELS

    @property
    def params(self) -> dict:
        """The parameters it was trained with; a 0.1.0 model's lack the later keys, which default as 0.1.0 did."""
        return {"neutralise": True, "digits": False, **(self.metadata.get("params") or {})}

    def predict_proba(self, documents: Sequence[tuple[str, str]]) -> np.ndarray:
        """``(title, text)`` pairs -> probabilities, columns in :data:`LABELS` order (left, center, right)."""
        neutral = self.params["neutralise"]
        docs = [neutralise(title, text) if neutral else compose(title, text)[0] for title, text in documents]
        logits = _logits(self.pipeline, docs)
        if self.raw is not None:
            logits = logits + _logits(self.raw, [compose(title, text)[0] for title, text in documents])
        return softmax(logits, axis=1)

    def _feature_names(self, pipeline: Pipeline | None = None) -> np.ndarray:
        """The vocabulary in column order, computed once: ``get_feature_names_out`` sorts the whole vocabulary
        on every call, which was four fifths of the time to score an article."""
        pipeline = self.pipeline if pipeline is None else pipeline
        key = f"_names{id(pipeline)}"
        names = self.__dict__.get(key)
        if names is None:
            names = self.__dict__[key] = pipeline.named_steps["counts"].get_feature_names_out()
        return names

    @property
    def threshold(self) -> float | None:
        """The confidence from which a label is shown, measured on outlets the model never saw (its metadata's
        ``evaluation.abstention.threshold``); ``None``: no label is ever shown (none measured, or none reached
        the target accuracy)."""
        abstention = (self.metadata.get("evaluation") or {}).get("abstention") or {}
        value = abstention.get("threshold")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def presentation(self) -> str:
        """``"article_lean"`` when the evaluation found the model orders articles of a story by lean better than
        their outlets' ratings do (people's judgement, BASIL); otherwise ``"wording_resemblance"``: its label
        says which side's outlets the wording resembles, not how the article leans."""
        value = (self.metadata.get("evaluation") or {}).get("presentation")
        return "article_lean" if value == "article_lean" else "wording_resemblance"

    def _unexplaining(self, pipeline: Pipeline) -> np.ndarray:
        """Boolean mask over a view's vocabulary: terms made only of English stop words or digits (computed
        once)."""
        key = f"_unexplaining{id(pipeline)}"
        mask = self.__dict__.get(key)
        if mask is None:
            names = self._feature_names(pipeline)
            mask = np.fromiter(
                (all(word.isdigit() or word in ENGLISH_STOP_WORDS for word in str(term).split(" ")) for term in names),
                dtype=bool, count=len(names))
            self.__dict__[key] = mask
        return mask

    def model_info(self) -> dict:
        """The short identity of the model put in every answer, with how its label may be presented and the
        threshold below which it gives none."""
        digest = (self.metadata.get("model_file") or {}).get("sha256")
        return {
            "version": self.metadata.get("format", FORMAT),
            "created": self.metadata.get("created"),
            "sha256": digest[:12] if digest else None,
            "presentation": self.presentation,
            "threshold": self.threshold,
        }

    def score(self, title: str | None, text: str | None, *, top_terms: int = 10) -> dict:
        """Rate one article.

        The model reads ``document = title + "\\n\\n" + text`` (``None`` counts as ``""``), only its first
        :data:`~classifier.data.MAX_CHARS` characters, after removing outlet names and boilerplate. Returns::

            {
              "label": "left" | "center" | "right" | None,     # None when refused or unsure, see "reason"
              "score": float | None,          # P(right) - P(left), from -1 (left) to +1 (right)
              "probabilities": {"left": p, "center": p, "right": p} | None,   # sum to 1
              "confidence": float | None,     # the largest probability
              "explanation": [                # terms ordered by |weight|, at most ``top_terms``
                {"term": "illegal aliens",    # a word or two-word phrase, lower-case, as the model counts it
                 "weight": 0.042,             # tf-idf value x centred coefficient of the predicted label:
                                              # > 0 pushed toward "label", < 0 pulled away from it
                 "side": "right",             # the label this term favours most in the model
                 "spans": [[start, end], ...]}  # every occurrence the model counted, see below
              ],
              "reason": None | "empty" | "not_english" | "uncertain",   # why no label was given;
                                              # "uncertain": scored (probabilities, score, explanation are
                                              # there) but below the model's measured threshold
              "message": str | None,          # the same for people
              "warnings": [str, ...],         # e.g. "truncated", "short_text"
              "truncated": bool,              # True when only the first MAX_CHARS characters were scored
              "text_offset": int,             # len(title) + 2: where ``text`` starts inside ``document``
              "language": {"english_ratio": float, "words": int},
              "model": {"version": str, "created": str, "sha256": str (12 hex),
                        "presentation": "article_lean" | "wording_resemblance", "threshold": float | None},
            }

        **Spans** are ``[start, end)`` character offsets into ``document = title + "\\n\\n" + text`` (Python
        string indices, i.e. code points): ``document[start:end].lower()`` is the term's words in order, with
        only the original spacing or punctuation between them. A span with ``start >= text_offset`` lies in
        ``text`` at ``[start - text_offset, end - text_offset]``; one with ``end <= len(title)`` lies in the
        title. Occurrences inside removed boilerplate are not listed; a two-word phrase that only exists
        because boilerplate between its words was removed has no span.
        """
        document, text_offset, truncated = compose(title, text)
        ratio, words = english_ratio(document)
        answer: dict = {
            "label": None,
            "score": None,
            "probabilities": None,
            "confidence": None,
            "explanation": [],
            "reason": None,
            "message": None,
            "warnings": [],
            "truncated": truncated,
            "text_offset": text_offset,
            "language": {"english_ratio": round(ratio, 3), "words": words},
            "model": self.model_info(),
        }
        if truncated:
            answer["warnings"].append(
                f"truncated: only the first {len(document)} characters of title and text were scored"
            )
        params = self.params
        segments = kept_segments(document, text_offset) if params["neutralise"] else [(0, len(document))]
        token_re = TOKEN_RE if not params["digits"] else _DIGITS_RE
        tokens = [
            (match.group().lower(), start + match.start(), start + match.end())
            for start, end in segments
            for match in token_re.finditer(document[start:end])
        ]
        if not tokens:
            answer["reason"] = "empty"
            answer["message"] = (
                "Nothing to score: no words left once outlet names and boilerplate are removed."
                if words
                else "Nothing to score: the title and text are empty."
            )
            return answer
        if words >= LANGUAGE_MIN_WORDS and ratio < ENGLISH_MIN_RATIO:
            answer["reason"] = "not_english"
            answer["message"] = (
                f"Not scored: the text does not look English ({ratio:.0%} of its words are common English "
                "words); the model was trained on English news only."
            )
            return answer
        if len(tokens) < SHORT_WORDS:
            answer["warnings"].append(
                f"short_text: only {len(tokens)} words were scored; treat the figure as weak evidence"
            )

        neutral = "\n".join(document[start:end] for start, end in segments)
        views = [(self.pipeline, neutral, tokens, segments)]
        if self.raw is not None:
            # The raw view reads the whole document, but its terms are shown (and highlighted) only where they
            # occur outside what neutralisation removes: "CNN" or a byline explains nothing to a reader.
            raw_tokens = [(m.group().lower(), start + m.start(), start + m.end()) for start, end in segments
                          for m in _DIGITS_RE.finditer(document[start:end])]
            views.append((self.raw, document, raw_tokens, segments))
        logits = np.zeros(len(LABELS))
        features = []
        for pipeline, text_of_view, _, _ in views:
            row = pipeline.named_steps["tfidf"].transform(pipeline.named_steps["counts"].transform([text_of_view]))
            features.append(row)
            logits += _logits_of(pipeline, row)[0]
        raw = softmax(logits)
        probabilities = {label: float(raw[i]) for i, label in enumerate(LABELS)}
        label = max(LABELS, key=probabilities.__getitem__)
        threshold = self.threshold
        explanation = []
        for position, ((pipeline, _, view_tokens, view_segments), row) in enumerate(zip(views, features,
                                                                                         strict=True)):
            items = self._explain(pipeline, row, label, view_tokens, view_segments, top_terms)
            explanation += items if position == 0 else [item for item in items if item["spans"]]
        answer.update(
            label=label,
            score=probabilities["right"] - probabilities["left"],
            probabilities=probabilities,
            confidence=probabilities[label],
            explanation=_merge_explanations(explanation, top_terms),
        )
        if threshold is None or probabilities[label] < threshold:
            answer["label"] = None
            answer["reason"] = "uncertain"
            answer["message"] = (
                f"Not enough evidence for a label: the model is {probabilities[label]:.0%} sure; labels are shown "
                f"from {threshold:.0%}, where they were right at least {self._target():.0%} of the time on outlets "
                "it never saw."
                if threshold is not None
                else "No label: this model has no measured confidence threshold (it was trained without "
                "evaluation, or no threshold reached the target accuracy on outlets it never saw)."
            )
        return answer

    def _target(self) -> float:
        abstention = (self.metadata.get("evaluation") or {}).get("abstention") or {}
        return float(abstention.get("target_accuracy") or 0.7)

    def _explain(self, pipeline, features, label, tokens, segments, top_terms: int) -> list[dict]:
        clf = pipeline.named_steps["clf"]
        classes = list(clf.classes_)
        key = f"_centred{id(pipeline)}"
        coef = self.__dict__.get(key)
        if coef is None:  # softmax is shift-invariant: centre across labels (once: 3 x 300,000 weights)
            coef = self.__dict__[key] = clf.coef_ - clf.coef_.mean(axis=0)
        row = features.tocsr()
        columns, values = row.indices, row.data
        if not columns.size or top_terms <= 0:
            return []
        weights = values * coef[classes.index(label), columns]
        names = self._feature_names(pipeline)
        # Terms made only of function words ("its", "from the") and bare numbers count in the model but explain
        # nothing to a reader: they are not listed (nor highlighted).
        weights = np.where(self._unexplaining(pipeline)[columns], 0.0, weights)
        order = np.argsort(-np.abs(weights), kind="stable")[:top_terms]
        chosen = [(str(names[columns[i]]), float(weights[i]), str(classes[int(np.argmax(coef[:, columns[i]]))]))
                  for i in order if weights[i] != 0]
        spans = _term_spans({term for term, _, _ in chosen}, tokens, segments)
        return [
            {"term": term, "weight": round(weight, 6), "side": side, "spans": spans.get(term, [])}
            for term, weight, side in chosen
        ]


def _logits_of(pipeline: Pipeline, features) -> np.ndarray:
    """The logistic regression's logits for tf-idf ``features``, columns in :data:`LABELS` order."""
    clf = pipeline.named_steps["clf"]
    order = [list(clf.classes_).index(label) for label in LABELS]
    return clf.decision_function(features)[:, order]


def _logits(pipeline: Pipeline, docs: Sequence[str]) -> np.ndarray:
    return _logits_of(pipeline, pipeline[:-1].transform(docs))


def _merge_explanations(items: list[dict], top_terms: int) -> list[dict]:
    """One entry per term across views: weights add, the first view's side and spans win (the neutral view's
    spans skip removed boilerplate); ordered by |weight|."""
    merged: dict[str, dict] = {}
    for item in items:
        if item["term"] in merged:
            merged[item["term"]]["weight"] = round(merged[item["term"]]["weight"] + item["weight"], 6)
        else:
            merged[item["term"]] = dict(item)
    return sorted(merged.values(), key=lambda item: -abs(item["weight"]))[:top_terms]


def _term_spans(terms: set[str], tokens: list[tuple[str, int, int]], segments) -> dict[str, list[list[int]]]:
    """Where each n-gram of ``terms`` occurs in the token stream, as ``[start, end]`` document offsets, in order.

    Only positions whose word starts one of ``terms`` are looked at, so the cost is one dictionary lookup a
    token (building every n-gram of a long article took longer than the prediction).
    """
    by_first: dict[str, list[tuple[str, list[str]]]] = {}
    for term in terms:
        words = term.split(" ")
        by_first.setdefault(words[0], []).append((term, words))
    found: dict[str, list[list[int]]] = {}
    segment_of = np.searchsorted([start for start, _ in segments], [start for _, start, _ in tokens], "right")
    for i, (token, start, _) in enumerate(tokens):
        for term, words in by_first.get(token, ()):
            last = i + len(words) - 1
            if last >= len(tokens) or segment_of[i] != segment_of[last]:
                continue  # a phrase never spans removed boilerplate
            if all(tokens[i + k][0] == words[k] for k in range(1, len(words))):
                found.setdefault(term, []).append([start, tokens[last][2]])
    return found


@dataclass
class TrainedModel(ScoringModel):
    """What :func:`train` returns: a :class:`ScoringModel` not yet saved (``model.sha256`` is ``None``)."""

    training_seconds: float = 0.0
    #: With ``train(keep_logits=True)``: every held-out prediction of the evaluation (never saved with the model).
    evaluation_logits: dict | None = None


def _label_counts(records: Sequence[dict]) -> dict[str, int]:
    counts = Counter(record["label"] for record in records)
    return {label: counts.get(label, 0) for label in LABELS}


def check_training_records(records: Sequence[dict], *, min_outlets: int = 2) -> None:
    """Refuse data a model cannot be trained on: missing a label, or too few outlets to generalise from."""
    if not records:
        raise TrainingDataError("no usable record (each needs title/text, label in left/center/right, domain)")
    counts = _label_counts(records)
    missing = [label for label, count in counts.items() if not count]
    if missing:
        raise TrainingDataError(f"training data has no {', '.join(missing)} article; all three labels are needed")
    outlets = len({record["domain"] for record in records})
    if outlets < min_outlets:
        raise TrainingDataError(f"training data comes from {outlets} outlet(s); at least {min_outlets} needed")


def neutralise_all(records: Sequence[dict], *, progress: bool = False, desc: str = "neutralising") -> list[str]:
    """The neutralised document of every record, with a progress bar when asked."""
    iterator: Iterable[dict] = records
    if progress:
        from tqdm import tqdm

        iterator = tqdm(records, desc=desc, unit="article", leave=False)
    return [neutralise(record["title"], record["text"]) for record in iterator]
