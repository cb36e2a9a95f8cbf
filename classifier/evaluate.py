"""How well the scorer rates articles of outlets it never saw, measured two ways, beside a plain baseline.

Two protocols, because one misled the design before (the 0.1.0 model won on the first and lost on the second):

- **outlet-grouped folds** (``grouped``): :class:`~sklearn.model_selection.StratifiedGroupKFold` over outlet
  domains, every outlet whole in one fold, folds with a similar mix of labels (``random_state=0``). Most of the
  330 development outlets are tiny, so this mostly measures small outlets.
- **leave the largest outlets out** (``leave_outlet_out``): the ``outlets`` outlets with the most articles (30 by
  default; they hold 92 % of the development data) are held out whole, ``per_fold`` at a time,
  and scored by a model trained on everything else. This is the product's case: a reader on a large national
  outlet. It is reported per held-out outlet (the share of its articles given its outlet's side) and over all
  of them: macro-F1 of the pooled articles and macro-F1 with every held-out outlet weighted equally.

In the same run, on the same folds, the plain baseline
``TfidfVectorizer(ngram_range=(1, 2), min_df=3, max_df=0.5, sublinear_tf=True, max_features=300000)`` +
``LogisticRegression(C=4)`` on the raw title and text. A modelling choice is kept only if it beats that on both.

The held-out predictions of the second protocol also calibrate the model (one temperature) and choose the
abstention threshold: the lowest confidence at which the labels shown on unseen outlets are right at least
:data:`TARGET_ACCURACY` of the time (:func:`abstention`).

Documents are tokenised once per text form; each fold keeps the columns its training rows allow, which gives
exactly the counts of a vectoriser fitted on that fold alone.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import KFold, StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from .data import LABELS, ORDINAL, clean_records
from .errors import TrainingDataError
from .model import (
    check_training_records,
    documents,
    fit_from_counts,
    logits_counts,
    raw_view_params,
    resolve_params,
    tokenize,
)

LOGGER = logging.getLogger(__name__)

#: The comparison every figure stands beside (issue #9): scikit-learn on the raw title and text.
BASELINE = ("TfidfVectorizer(ngram_range=(1, 2), min_df=3, max_df=0.5, sublinear_tf=True, max_features=300000) "
            "+ LogisticRegression(C=4), raw title + text")
#: :data:`BASELINE` as parameters of the newstilt pipeline: the same steps over the plain document, fitted by the
#: same code (and so exactly the raw view of a model whose other parameters are these).
BASELINE_PARAMS = resolve_params({
    "neutralise": False, "digits": True, "raw_view": False, "ngram_max": 2, "min_df": 3, "max_df": 0.5,
    "max_features": 300_000, "min_outlets": 1, "max_terms": None, "drop_stop_words": False, "C": 4.0,
    "class_weight": None, "outlet_weight_power": 0.0, "max_iter": 100,
})
#: Shown labels must be right at least this often on outlets the model never saw.
TARGET_ACCURACY = 0.70
#: ... on at least this share of those articles and this many of them, else no threshold is claimed (a figure
#: measured on a handful of articles is not one to stand behind).
MIN_COVERAGE = 0.01
MIN_SHOWN = 30
#: The thresholds of the accuracy-against-coverage table in the model card.
TABLE_THRESHOLDS = (0.34, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95)


def baseline_pipeline() -> Pipeline:
    """The plain TF-IDF + logistic regression newstilt is measured against (:data:`BASELINE`)."""
    return Pipeline([
        ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=3, max_df=0.5, sublinear_tf=True,
                                  max_features=300_000)),
        ("clf", LogisticRegression(C=4)),
    ])


# ------------------------------------------------------------------------------------------------- figures
def metrics(y_true: Sequence[str], y_pred: Sequence[str], sample_weight=None) -> dict:
    """Macro-F1, accuracy, MAE on the ordinal scale (left=-1, center=0, right=+1), per-class figures and the
    confusion matrix (rows = true label, columns = predicted, both in ``LABELS`` order)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = list(LABELS)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0, sample_weight=sample_weight
    )
    ordinal = np.vectorize(ORDINAL.__getitem__, otypes=[float])
    errors = np.abs(ordinal(y_true) - ordinal(y_pred)) if len(y_true) else np.zeros(0)
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0,
                                   sample_weight=sample_weight)),
        "accuracy": float(accuracy_score(y_true, y_pred, sample_weight=sample_weight)),
        "mae": float(np.average(errors, weights=sample_weight)) if len(errors) else 0.0,
        "per_class": {
            label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                    "support": int(np.sum(y_true == label))}
            for i, label in enumerate(labels)
        },
        "confusion": {"labels": labels, "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }


def outlet_balance(domains: Sequence[str]) -> np.ndarray:
    """Sample weights giving every outlet of ``domains`` the same total weight (1 / its article count)."""
    counts = Counter(domains)
    return np.array([1.0 / counts[domain] for domain in domains])


def predicted_labels(logits: np.ndarray) -> np.ndarray:
    return np.asarray(LABELS, dtype=object)[logits.argmax(axis=1)].astype(str)


# -------------------------------------------------------------------------------------------------- splits
def grouped_splits(labels: Sequence[str], domains: Sequence[str], folds: int = 5) -> list:
    """Outlet-grouped, label-stratified folds (fixed)."""
    n_outlets = len(set(domains))
    if n_outlets < folds:
        raise TrainingDataError(f"{folds} outlet-grouped folds need at least {folds} outlets, got {n_outlets}")
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=0)
    return list(splitter.split(np.zeros(len(labels)), labels, domains))


def held_out_outlets(domains: Sequence[str], outlets: int = 30) -> list[str]:
    """The ``outlets`` outlets with the most articles, largest first (ties by name); at most half the outlets,
    so every fold still trains on most of them."""
    counts = Counter(domains)
    ranked = sorted(counts, key=lambda domain: (-counts[domain], domain))
    return ranked[: max(1, min(outlets, len(ranked) // 2))]


def leave_outlet_out_splits(domains: Sequence[str], outlets: int = 30, per_fold: int = 3) -> list:
    """Folds that each hold out ``per_fold`` of the largest outlets whole (dealt round-robin by size, so no fold
    holds two of the very largest) and train on every other outlet."""
    domains = np.asarray(domains)
    held = held_out_outlets(domains, outlets)
    n_folds = max(1, -(-len(held) // per_fold))
    everything = np.arange(len(domains))
    splits = []
    for fold in range(n_folds):
        test = np.flatnonzero(np.isin(domains, held[fold::n_folds]))
        splits.append((np.setdiff1d(everything, test), test))
    return splits


# ------------------------------------------------------------------------------------------ cross-fitting
def out_of_fold_logits(splits, fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray], n: int,
                       progress: bool, desc: str, n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(logits, scored)``: each test row's logits from the fold that held it out (LABELS column order).
    ``n_jobs`` > 1 fits that many folds at once in worker processes (the count matrix is memory-mapped)."""
    logits = np.zeros((n, len(LABELS)))
    scored = np.zeros(n, dtype=bool)
    if n_jobs != 1:
        from joblib import Parallel, delayed

        LOGGER.info("%s: %d folds on %s processes", desc, len(splits), n_jobs)
        results = Parallel(n_jobs=n_jobs)(delayed(fit_predict)(train, test) for train, test in splits)
    else:
        iterator = splits
        if progress:
            from tqdm import tqdm

            iterator = tqdm(splits, desc=desc, unit="fold", leave=False)
        results = [fit_predict(train_rows, test_rows) for train_rows, test_rows in iterator]
    for (_, test_rows), fold_logits in zip(splits, results, strict=True):
        logits[test_rows] = fold_logits
        scored[test_rows] = True
    return logits, scored


def summarise(labels: np.ndarray, domains: np.ndarray, logits: np.ndarray, splits, *, per_outlet: bool) -> dict:
    """The figures of one protocol for one model from its out-of-fold ``logits``."""
    predicted = predicted_labels(logits)
    test = np.unique(np.concatenate([rows for _, rows in splits]))
    y, pred, dom = labels[test], predicted[test], domains[test]
    # Macro-F1 over the sides present among the true or predicted labels (scikit-learn's default): a fold of
    # three held-out outlets may have no article of one side, which is no failure to find it.
    fold_f1 = [f1_score(labels[rows], predicted[rows], average="macro", zero_division=0) for _, rows in splits]
    block = {
        "folds": len(splits),
        "articles": int(len(test)),
        "outlets": int(len(set(dom))),
        "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
        "fold_macro_f1": float(np.mean(fold_f1)),
        "fold_macro_f1_sd": float(np.std(fold_f1)),
        "outlet_macro_f1": float(f1_score(y, pred, average="macro", zero_division=0,
                                          sample_weight=outlet_balance(dom))),
        "pooled": metrics(y, pred),
    }
    block["accuracy"] = block["pooled"]["accuracy"]
    block["mae"] = block["pooled"]["mae"]
    if per_outlet:
        rows = []
        for domain in sorted(set(dom), key=lambda d: (-int(np.sum(dom == d)), d)):
            mine = dom == domain
            counts = Counter(pred[mine])
            side = Counter(y[mine]).most_common(1)[0][0]  # a few articles of an outlet may carry another label
            rows.append({"domain": domain, "label": str(side), "articles": int(mine.sum()),
                         "accuracy": float(np.mean(pred[mine] == y[mine])),
                         "predicted": {label: counts.get(label, 0) for label in LABELS}})
        block["per_outlet"] = rows
        block["outlet_accuracy"] = float(np.mean([row["accuracy"] for row in rows]))
    return block


# ------------------------------------------------------------------------------- calibration and abstention
def fit_temperature(logits: np.ndarray, labels: Sequence[str]) -> float:
    """The temperature ``T`` minimising the log loss of ``softmax(logits / T)`` (Guo et al., 2017). Dividing a
    logistic regression's coefficients by ``T`` applies it and changes no label, only how sure it sounds."""
    index = np.array([LABELS.index(label) for label in labels])

    def loss(log_t: float) -> float:
        return -float(np.mean(log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(index)), index]))

    result = minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


def calibration_error(probabilities: np.ndarray, labels: Sequence[str], bins: int = 15) -> float:
    """Expected calibration error of the top label: mean |accuracy - confidence| over confidence bins."""
    confidence = probabilities.max(axis=1)
    correct = predicted_labels(probabilities) == np.asarray(labels)
    edges = np.linspace(0, 1, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


def coverage_row(probabilities: np.ndarray, labels: np.ndarray, domains: np.ndarray, threshold: float) -> dict:
    """Share of articles labelled at ``threshold`` and how often those labels are right (pooled, and with
    every outlet weighted equally)."""
    shown = probabilities.max(axis=1) >= threshold
    correct = predicted_labels(probabilities) == labels
    weights = outlet_balance(domains)
    return {
        "threshold": round(float(threshold), 3),
        "coverage": float(shown.mean()),
        "shown": int(shown.sum()),
        "accuracy": float(correct[shown].mean()) if shown.any() else None,
        "outlet_accuracy": float(np.average(correct[shown], weights=weights[shown])) if shown.any() else None,
    }


def abstention(probabilities: np.ndarray, labels: np.ndarray, domains: np.ndarray,
               target: float = TARGET_ACCURACY) -> dict:
    """The lowest confidence threshold (0.01 steps) at which shown labels are right at least ``target`` of the
    time both pooled and with every outlet weighted equally, on at least :data:`MIN_COVERAGE` of articles and
    :data:`MIN_SHOWN` articles;
    ``threshold`` is ``None`` when no threshold does (then no label is ever shown). With the table."""
    chosen = None
    for threshold in np.arange(0.34, 1.0, 0.01):
        row = coverage_row(probabilities, labels, domains, threshold)
        if row["coverage"] < MIN_COVERAGE or row["shown"] < MIN_SHOWN:
            break
        if row["accuracy"] >= target and row["outlet_accuracy"] >= target:
            chosen = row
            break
    return {
        "target_accuracy": target,
        "threshold": chosen["threshold"] if chosen else None,
        "coverage": chosen["coverage"] if chosen else 0.0,
        "accuracy": chosen["accuracy"] if chosen else None,
        "outlet_accuracy": chosen["outlet_accuracy"] if chosen else None,
        "table": [coverage_row(probabilities, labels, domains, t) for t in TABLE_THRESHOLDS],
    }


# --------------------------------------------------------------------------------------------- the models
def _newstilt_fitter(docs, labels, domains, params):
    counts, terms = tokenize(docs, params, min_df=max(1, min(2, int(params["min_df"]))))

    def fit_predict(train_rows, test_rows):
        pipeline, columns = fit_from_counts(counts[train_rows], terms, labels[train_rows], domains[train_rows],
                                            params)
        return logits_counts(pipeline, counts[test_rows][:, columns])

    return fit_predict


def evaluate(
    records: Iterable[dict],
    folds: int = 5,
    *,
    params: dict | None = None,
    outlets: int = 30,
    per_fold: int = 3,
    progress: bool = True,
    random_split: bool = False,
    baseline: bool = True,
    n_jobs: int = 1,
    keep_logits: bool = False,
    reuse_logits: dict | None = None,
) -> dict:
    """Both protocols for the newstilt model (``params`` over the defaults) and, with ``baseline``, for
    :data:`BASELINE` on the same folds; then calibration and the abstention threshold from the held-out outlets.
    ``n_jobs`` fits that many folds at once (each worker holds a model of ~300,000 terms: about 1 GB).
    ``reuse_logits`` (``{"neutral": {protocol: logits}, "baseline": {...}}``, as ``keep_logits`` returns them
    from a run on the same records with the same neutral-view parameters) skips fitting those folds again.

    Returns ``{"data", "params", "grouped", "leave_outlet_out", "calibration", "abstention", "random"}``. Each
    protocol block has ``macro_f1`` (pooled over held-out articles, the headline), ``fold_macro_f1`` (mean over
    folds, as ``cross_val_score`` reports it) and its sd, ``outlet_macro_f1`` (every outlet weighted equally),
    ``accuracy``, ``mae``, ``pooled`` (per-class figures and confusion matrix) and, with the baseline, a
    ``baseline`` block of the same figures; ``leave_outlet_out`` adds ``per_outlet`` rows.
    """
    params = resolve_params(params)
    records = clean_records(records)
    check_training_records(records, min_outlets=max(folds, 4))
    labels = np.array([record["label"] for record in records])
    domains = np.array([record["domain"] for record in records])
    started = time.perf_counter()
    docs = documents(records, params, progress=progress)
    protocols = {
        "grouped": grouped_splits(labels, domains, folds),
        "leave_outlet_out": leave_outlet_out_splits(domains, outlets, per_fold),
    }
    result: dict = {
        "data": {"records": len(records), "outlets": len(set(domains)),
                 "label_counts": {label: int(np.sum(labels == label)) for label in LABELS}},
        "params": params,
        "baseline_model": BASELINE if baseline else None,
        "random": None,
    }
    reused = reuse_logits or {}
    fit_newstilt = _newstilt_fitter(docs, labels, domains, params) if "neutral" not in reused or random_split \
        else None
    oof = {}
    for name, splits in protocols.items():
        oof[name] = reused["neutral"][name] if "neutral" in reused else \
            out_of_fold_logits(splits, fit_newstilt, len(records), progress, name, n_jobs)[0]
    baseline_oof = {}
    raw_params = raw_view_params(params)
    # The raw view is the plain baseline whenever their parameters agree: its folds are then fitted once.
    shared = params["raw_view"] and raw_params == BASELINE_PARAMS
    if (baseline or shared) and "baseline" in reused:
        baseline_oof = dict(reused["baseline"])
    elif baseline or shared:
        fit_baseline = _newstilt_fitter(documents(records, BASELINE_PARAMS), labels, domains, BASELINE_PARAMS)
        for name, splits in protocols.items():
            baseline_oof[name], _ = out_of_fold_logits(splits, fit_baseline, len(records), progress,
                                                       f"baseline {name}", n_jobs)
    if params["raw_view"]:
        if shared:
            raw_oof = baseline_oof
        else:
            fit_raw = _newstilt_fitter(documents(records, raw_params), labels, domains, raw_params)
            raw_oof = {name: out_of_fold_logits(splits, fit_raw, len(records), progress, f"raw view {name}",
                                                n_jobs)[0] for name, splits in protocols.items()}
        result["neutral_view"] = {name: summarise(labels, domains, oof[name], splits, per_outlet=False)
                                  for name, splits in protocols.items()}
        neutral_oof = oof
        oof = {name: oof[name] + raw_oof[name] for name in protocols}
    for name, splits in protocols.items():
        result[name] = summarise(labels, domains, oof[name], splits, per_outlet=name == "leave_outlet_out")
        result[name]["held_out"] = ([row["domain"] for row in result[name]["per_outlet"]]
                                    if name == "leave_outlet_out" else None)
    if baseline:
        for name, splits in protocols.items():
            logits = baseline_oof[name]
            block = summarise(labels, domains, logits, splits, per_outlet=name == "leave_outlet_out")
            result[name]["baseline"] = block
            if name == "leave_outlet_out":
                accuracy = {row["domain"]: row["accuracy"] for row in block["per_outlet"]}
                for row in result[name]["per_outlet"]:
                    row["baseline_accuracy"] = accuracy[row["domain"]]
            for key in ("macro_f1", "fold_macro_f1", "outlet_macro_f1"):
                result[name][f"baseline_{key}"] = block[key]
    if random_split:
        splits = list(KFold(n_splits=folds, shuffle=True, random_state=0).split(docs))
        logits, _ = out_of_fold_logits(splits, fit_newstilt, len(records), progress, "random")
        result["random"] = summarise(labels, domains, logits, splits, per_outlet=False)

    # Calibrate on the product's case (outlets never seen) and choose the threshold there.
    held = np.unique(np.concatenate([rows for _, rows in protocols["leave_outlet_out"]]))
    temperature = fit_temperature(oof["leave_outlet_out"][held], labels[held])
    calibrated = {name: softmax(logits / temperature, axis=1) for name, logits in oof.items()}
    raw_probabilities = {name: softmax(logits, axis=1) for name, logits in oof.items()}
    grouped_rows = np.arange(len(records))
    result["calibration"] = {
        "method": "temperature scaling on the held-out largest outlets' predictions",
        "temperature": temperature,
        "ece": {
            name: {"before": calibration_error(raw_probabilities[name][rows], labels[rows]),
                   "after": calibration_error(calibrated[name][rows], labels[rows])}
            for name, rows in (("leave_outlet_out", held), ("grouped", grouped_rows))
        },
    }
    result["abstention"] = abstention(calibrated["leave_outlet_out"][held], labels[held], domains[held])
    threshold = result["abstention"]["threshold"]
    if threshold is not None:  # the same threshold, checked on the other protocol
        result["abstention"]["grouped"] = coverage_row(calibrated["grouped"], labels, domains, threshold)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if keep_logits:  # every held-out prediction, for analyses beyond these figures (not kept in a model)
        result["logits"] = {"labels": labels, "domains": domains, "newstilt": oof,
                            "neutral": result.get("neutral_view") and neutral_oof,
                            "baseline": baseline_oof if baseline else None}
    return result


# --------------------------------------------------------------------------------------- people's stance
def stance_check(scores: Mapping[str, float], top: Mapping[str, str], shown: Mapping[str, str | None],
                 stance: Iterable[dict], outlet_bias: Mapping[str, float]) -> dict:
    """Article-level check against people's judgement (BASIL, Fan et al. 2019).

    ``stance``: records ``{id, story_id, domain, relative_stance}``; per article id, ``scores`` the model's score
    (P(right) - P(left)), ``top`` its most likely side and ``shown`` its label (``None`` when it abstained);
    ``outlet_bias``: each outlet's rating on the -3..+3 scale, the reference. Over every pair of articles of one
    story whose people's stances differ: how often the model's scores order the pair as the people did, and how
    often the outlets' ratings do (a tie counts one half). Label agreement: the model's sides, and the outlets'
    sides, against the people's.
    """
    by_story: dict[str, list[dict]] = {}
    for row in stance:
        if row["id"] in scores and row["domain"] in outlet_bias:
            by_story.setdefault(row["story_id"], []).append(row)

    def agreement(value: Callable[[dict], float]) -> tuple[float | None, int]:
        total = agreed = 0.0
        for rows in by_story.values():
            for i, a in enumerate(rows):
                for b in rows[i + 1:]:
                    human = np.sign(ORDINAL[a["relative_stance"]] - ORDINAL[b["relative_stance"]])
                    if not human:
                        continue
                    machine = np.sign(value(a) - value(b))
                    total += 1
                    agreed += 1.0 if machine == human else 0.5 if machine == 0 else 0.0
        return (agreed / total if total else None), int(total)

    model_pairs, pairs = agreement(lambda row: scores[row["id"]])
    outlet_pairs, _ = agreement(lambda row: outlet_bias[row["domain"]])
    rows = [row for story in by_story.values() for row in story]

    def side(rating: float) -> str:
        return "left" if rating < 0 else "right" if rating > 0 else "center"

    def share(pairs_: list[tuple[str | None, str]]) -> float | None:
        return float(np.mean([a == b for a, b in pairs_])) if pairs_ else None

    labelled = [(shown[row["id"]], row["relative_stance"]) for row in rows if shown.get(row["id"])]
    return {
        "stories": len(by_story),
        "articles": len(rows),
        "pairs": pairs,
        "pairwise_model": model_pairs,
        "pairwise_outlet_rating": outlet_pairs,
        "label_agreement_model": share([(top[row["id"]], row["relative_stance"]) for row in rows]),
        "label_agreement_outlet_rating": share([(side(outlet_bias[row["domain"]]), row["relative_stance"])
                                                for row in rows]),
        "label_agreement_shown": share(labelled),
        "labels_shown": len(labelled),
    }
