"""Outlet-grouped cross-validation: how well the scorer rates outlets it never saw.

Folds come from :class:`~sklearn.model_selection.StratifiedGroupKFold` grouped by outlet domain, so every
test article comes from an outlet absent from that fold's training data. Stratified, because the outlets are
very unequal: six of 330 supply 46 % of the development articles, and plain ``GroupKFold`` (which balances
only fold sizes) dealt out folds such as 5,266 center articles against 698 right ones, whose macro-F1 says more
about the one or two outlets that dominate them than about the model. ``StratifiedGroupKFold`` keeps every
outlet whole and gives each fold a similar mix of labels; the folds are fixed (``random_state=0``).

A random split is available for comparison only: it mostly measures how well the model recognises an outlet's
house style, which says little about new outlets.

The documents are tokenised once; each fold then keeps the columns its training rows allow. That gives the
same counts as fitting a vectoriser on the fold alone and is several times faster.
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import KFold, StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from .data import LABELS, ORDINAL, clean_records, compose
from .model import (
    check_training_records,
    fit_from_counts,
    neutralise_all,
    predict_counts,
    resolve_params,
    tokenize,
)

#: What the comparison figure is: scikit-learn defaults on the raw title and text.
BASELINE = "TfidfVectorizer() + LogisticRegression(max_iter=1000) on raw title + text (no neutralisation)"


def baseline_pipeline() -> Pipeline:
    """The plain TF-IDF + logistic regression newstilt is measured against."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return Pipeline([("tfidf", TfidfVectorizer()), ("clf", LogisticRegression(max_iter=1000))])


def metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict:
    """Macro-F1, accuracy, MAE on the ordinal scale (left=-1, center=0, right=+1), per-class figures and the
    confusion matrix (rows = true label, columns = predicted, both in ``labels`` order)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = list(LABELS)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    ordinal = np.vectorize(ORDINAL.__getitem__, otypes=[float])
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "mae": float(np.abs(ordinal(y_true) - ordinal(y_pred)).mean()),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion": {"labels": labels, "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }


def _summarise(y: np.ndarray, predicted: np.ndarray, fold_rows: list[dict], kind: str, seconds: float) -> dict:
    f1s = np.array([fold["macro_f1"] for fold in fold_rows])
    return {
        "split": kind,
        "folds": len(fold_rows),
        # The headline: mean over folds, as cross_val_score(scoring="f1_macro") reports it.
        "macro_f1": float(f1s.mean()),
        "macro_f1_sd": float(f1s.std()),
        "accuracy": float(np.mean([fold["accuracy"] for fold in fold_rows])),
        "mae": float(np.mean([fold["mae"] for fold in fold_rows])),
        # All out-of-fold predictions together.
        "pooled": metrics(y, predicted),
        "per_fold": fold_rows,
        "seconds": round(seconds, 1),
    }


def _cross_validate(counts, terms, labels, domains, splits, fit, kind: str, progress: bool) -> dict:
    started = time.perf_counter()
    y = np.asarray(labels)
    groups = np.asarray(domains)
    predicted = np.empty(len(y), dtype=object)
    fold_rows = []
    iterator = splits
    if progress:
        from tqdm import tqdm

        iterator = tqdm(splits, desc=f"{kind} folds", unit="fold", leave=False)
    for train_rows, test_rows in iterator:
        pipeline, columns = fit(counts[train_rows], terms, y[train_rows], groups[train_rows])
        probabilities = predict_counts(pipeline, counts[test_rows][:, columns])
        fold_pred = np.asarray(LABELS, dtype=object)[probabilities.argmax(axis=1)]
        predicted[test_rows] = fold_pred
        row = metrics(y[test_rows], fold_pred)
        fold_rows.append(
            {
                "macro_f1": row["macro_f1"],
                "accuracy": row["accuracy"],
                "mae": row["mae"],
                "test_articles": len(test_rows),
                "test_outlets": len(set(groups[test_rows])),
            }
        )
    return _summarise(y, predicted.astype(str), fold_rows, kind, time.perf_counter() - started)


def _splits(kind: str, labels, domains, folds: int):
    n_outlets = len(set(domains))
    if kind == "outlet-grouped":
        if n_outlets < folds:
            raise ValueError(f"{folds} outlet-grouped folds need at least {folds} outlets, got {n_outlets}")
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=0)
        return list(splitter.split(labels, labels, domains))
    return list(KFold(n_splits=folds, shuffle=True, random_state=0).split(labels))


def grouped_cv(
    docs: Sequence[str],
    labels: Sequence[str],
    domains: Sequence[str],
    *,
    params: dict | None = None,
    folds: int = 5,
    progress: bool = False,
    kind: str = "outlet-grouped",
) -> dict:
    """Cross-validate the newstilt model on neutralised ``docs`` (``kind``: outlet-grouped or random)."""
    params = resolve_params(params)
    counts, terms = tokenize(docs, params, min_df=max(1, min(2, int(params["min_df"]))))

    def fit(rows, terms, y, groups):
        return fit_from_counts(rows, terms, y, groups, params)

    return _cross_validate(
        counts, terms, labels, domains, _splits(kind, labels, domains, folds), fit, kind, progress
    )


def baseline_cv(
    raw_docs: Sequence[str],
    labels: Sequence[str],
    domains: Sequence[str],
    *,
    folds: int = 5,
    progress: bool = False,
    kind: str = "outlet-grouped",
) -> dict:
    """Cross-validate :data:`BASELINE` on raw documents, folds identical to :func:`grouped_cv`'s."""
    vectorizer = CountVectorizer(dtype=np.float64)
    counts = vectorizer.fit_transform(raw_docs).tocsr()
    terms = vectorizer.get_feature_names_out()

    def fit(rows, terms, y, groups):
        present = rows.copy()
        present.data = np.ones_like(present.data)
        columns = np.flatnonzero(np.asarray(present.sum(axis=0)).ravel() > 0)
        vocabulary = {str(term): index for index, term in enumerate(terms[columns])}
        counts_step = CountVectorizer(vocabulary=vocabulary, dtype=np.float64)
        with warnings.catch_warnings():
            # A few Unicode letters lower-case to something str.lower() changes again ("İ"); scikit-learn warns
            # that such vocabulary entries cannot match. They cannot, here either: the folds use counts above.
            warnings.filterwarnings("ignore", "Upper case characters found in vocabulary", UserWarning)
            counts_step.fit([""])
        tfidf = TfidfTransformer()
        clf = LogisticRegression(max_iter=1000)
        clf.fit(tfidf.fit_transform(rows[:, columns]), y)
        return Pipeline([("counts", counts_step), ("tfidf", tfidf), ("clf", clf)]), columns

    result = _cross_validate(
        counts, terms, labels, domains, _splits(kind, labels, domains, folds), fit, kind, progress
    )
    result["model"] = BASELINE
    return result


def evaluate(
    records: Iterable[dict],
    folds: int = 5,
    *,
    params: dict | None = None,
    progress: bool = True,
    random_split: bool = False,
    baseline: bool = False,
) -> dict:
    """Outlet-grouped ``folds``-fold cross-validation of the newstilt model on ``records``.

    Returns ``{"grouped": {...}, "random": {...} | None, "baseline": {...} | None, "data": {...},
    "params": {...}}``. Each figure block has ``macro_f1`` (mean over folds, the headline), ``macro_f1_sd``,
    ``accuracy``, ``mae`` (ordinal scale left=-1, center=0, right=+1, fold means), ``pooled`` (the same over
    all out-of-fold predictions plus ``per_class`` precision/recall/F1 and the ``confusion`` matrix) and
    ``per_fold``. ``random`` (a shuffled, *not* outlet-grouped split, for comparison only) and ``baseline``
    (:data:`BASELINE`, outlet-grouped, same folds) are computed when asked.
    """
    params = resolve_params(params)
    records = clean_records(records)
    check_training_records(records, min_outlets=folds)
    labels = [record["label"] for record in records]
    domains = [record["domain"] for record in records]
    docs = neutralise_all(records, progress=progress)
    result = {
        "data": {
            "records": len(records),
            "outlets": len(set(domains)),
            "label_counts": {label: labels.count(label) for label in LABELS},
        },
        "params": params,
        "grouped": grouped_cv(docs, labels, domains, params=params, folds=folds, progress=progress),
        "random": None,
        "baseline": None,
    }
    if random_split:
        result["random"] = grouped_cv(
            docs, labels, domains, params=params, folds=folds, progress=progress, kind="random"
        )
    if baseline:
        raw = [compose(record["title"], record["text"])[0] for record in records]
        result["baseline"] = baseline_cv(raw, labels, domains, folds=folds, progress=progress)
    return result
