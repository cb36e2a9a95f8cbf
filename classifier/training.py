"""Train the scorer: evaluate it on both protocols, fit it on everything, calibrate it, choose its threshold.

:func:`train` runs :func:`~classifier.evaluate.evaluate` first (unless told not to), so every saved model
carries in its metadata the figures it was measured at, the temperature that calibrates it and the confidence
below which it gives no label. Given people's article-level stance (BASIL), it also measures whether its score
orders a story's articles better than their outlets' ratings do, and so how its label may be presented.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence

from .data import LABELS, ORDINAL, clean_records, fingerprint
from .errors import TrainingDataError
from .evaluate import evaluate, stance_check
from .model import (
    FORMAT,
    TrainedModel,
    _label_counts,
    apply_temperature,
    check_training_records,
    documents,
    fit_from_counts,
    raw_view_params,
    resolve_params,
    tokenize,
)

LOGGER = logging.getLogger(__name__)

#: What :func:`train` keeps of each protocol's figures in the model's metadata.
_FIGURES = ("macro_f1", "fold_macro_f1", "outlet_macro_f1", "accuracy", "mae", "articles", "outlets", "folds",
            "baseline_macro_f1", "baseline_fold_macro_f1", "baseline_outlet_macro_f1")


def _title_key(title: str) -> str:
    return re.sub(r"\W+", " ", title.lower()).strip()


def without_stance_articles(records: list[dict], stance: Sequence[dict] | None) -> tuple[list[dict], int]:
    """``(records, how many were left out)``: the records whose title is not one of the stance articles'."""
    if not stance:
        return records, 0
    titles = {_title_key(row.get("title") or "") for row in stance} - {""}
    kept = [record for record in records if _title_key(record["title"]) not in titles]
    return kept, len(records) - len(kept)


def _compact(result: dict) -> dict:
    """The evaluation as the metadata keeps it: headline figures, per held-out outlet, calibration, abstention."""
    compact = {"baseline_model": result.get("baseline_model")}
    for name in ("grouped", "leave_outlet_out"):
        block = result[name]
        compact[name] = {key: block[key] for key in _FIGURES if key in block}
        if "per_outlet" in block:
            compact[name]["per_outlet"] = [
                {key: row[key] for key in ("domain", "label", "articles", "accuracy", "baseline_accuracy")
                 if key in row}
                for row in block["per_outlet"]
            ]
    if result.get("neutral_view"):  # the neutral view alone, beside the two views together
        compact["neutral_view"] = {name: {key: block[key] for key in ("macro_f1", "fold_macro_f1", "outlet_macro_f1")}
                                   for name, block in result["neutral_view"].items()}
    compact["calibration"] = result["calibration"]
    compact["abstention"] = result["abstention"]
    return compact


def train(
    records: Iterable[dict],
    *,
    progress: bool = True,
    params: dict | None = None,
    evaluation: bool = True,
    folds: int = 5,
    outlets: int = 30,
    per_fold: int = 3,
    baseline: bool = False,
    stance: Sequence[dict] | None = None,
    outlet_bias: Callable[[str], float | None] | None = None,
    n_jobs: int = 1,
    keep_logits: bool = False,
    reuse_logits: dict | None = None,
) -> TrainedModel:
    """Train the scorer on ``records`` (dicts with ``title``, ``text``, ``label``, ``domain``).

    With ``evaluation`` (the default) both protocols of :func:`~classifier.evaluate.evaluate` run first
    (``baseline`` adds the plain baseline's figures beside them); the fitted model is then calibrated with
    their temperature and labels only from their threshold. Without it the model has no threshold and gives
    no label, only probabilities. ``stance``: people's relative stance of articles (records with ``id``,
    ``story_id``, ``domain``, ``relative_stance``, ``title``, ``text``), checked against ``outlet_bias``
    (domain -> -3..+3 rating, ``None`` for unrated); records whose title is one of theirs are left out of
    training.
    """
    started = time.perf_counter()
    params = resolve_params(params)
    records = clean_records(records)
    records, excluded = without_stance_articles(records, stance)
    check_training_records(records)
    result = None
    unevaluated = None if evaluation else "not asked for"
    if evaluation:
        try:
            result = evaluate(records, folds=folds, params=params, outlets=outlets, per_fold=per_fold,
                              progress=progress, baseline=baseline, n_jobs=n_jobs,
                              keep_logits=keep_logits, reuse_logits=reuse_logits)
        except TrainingDataError as exc:  # too few outlets or articles for the folds: train, but claim nothing
            unevaluated = f"could not be evaluated: {exc}"
            LOGGER.warning("the model %s", unevaluated)
    docs = documents(records, params, progress=progress)
    labels = [record["label"] for record in records]
    domains = [record["domain"] for record in records]
    counts, terms = tokenize(docs, params, min_df=max(1, min(2, int(params["min_df"]))))
    pipeline, _ = fit_from_counts(counts, terms, labels, domains, params)
    del counts
    raw = None
    if params["raw_view"]:
        raw_params = raw_view_params(params)
        counts, terms = tokenize(documents(records, raw_params), raw_params, min_df=2)
        raw, _ = fit_from_counts(counts, terms, labels, domains, raw_params)
        del counts
    metadata: dict = {
        "format": FORMAT,
        "labels": list(LABELS),
        "ordinal": ORDINAL,
        "params": params,
        "training": {
            "records": len(records),
            "outlets": len(set(domains)),
            "label_counts": _label_counts(records),
            "fingerprint": fingerprint(records),
            "vocabulary": len(pipeline.named_steps["counts"].vocabulary_),
            "raw_view_vocabulary": len(raw.named_steps["counts"].vocabulary_) if raw is not None else None,
            "left_out_as_stance_articles": excluded,
        },
        "evaluation": None,
        "unevaluated": unevaluated,
    }
    model = TrainedModel(pipeline=pipeline, metadata=metadata, raw=raw)
    if result is not None and keep_logits:
        model.evaluation_logits = result.pop("logits")
    if result is not None:
        for view in (pipeline, raw):
            if view is not None:
                apply_temperature(view, result["calibration"]["temperature"])
        evaluation_block = _compact(result)
        evaluation_block["presentation"] = "wording_resemblance"
        metadata["evaluation"] = evaluation_block
        if stance and outlet_bias is not None:
            evaluation_block["basil"] = measure_stance(model, stance, outlet_bias)
            basil = evaluation_block["basil"]
            if basil["pairs"] and basil["pairwise_model"] > basil["pairwise_outlet_rating"]:
                evaluation_block["presentation"] = "article_lean"
    seconds = time.perf_counter() - started
    metadata["training"]["seconds"] = round(seconds, 1)
    model.training_seconds = seconds
    if result is None:
        LOGGER.warning("trained without evaluation (%s): the model has no measured threshold and will give no "
                       "label", unevaluated)
    return model


def measure_stance(model, stance: Sequence[dict], outlet_bias: Callable[[str], float | None]) -> dict:
    """Score each stance article with ``model`` and compare with people's judgement (see
    :func:`~classifier.evaluate.stance_check`)."""
    scores, top, shown, bias = {}, {}, {}, {}
    for row in stance:
        answer = model.score(row.get("title") or "", row.get("text") or "", top_terms=0)
        rating = outlet_bias(row["domain"])
        if answer["probabilities"] is None or rating is None:
            continue
        scores[row["id"]] = answer["score"]
        top[row["id"]] = max(LABELS, key=answer["probabilities"].__getitem__)
        shown[row["id"]] = answer["label"]
        bias[row["domain"]] = float(rating)
    figures = stance_check(scores, top, shown, stance, bias)
    figures["reference"] = "each article's outlet rating on the -3..+3 scale"
    return figures
