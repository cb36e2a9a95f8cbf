"""newstilt's article scorer: left/center/right probabilities for one article, and the words behind them.

A plain library (no Flask). Typical use::

    from newstilt.classifier import load, read_jsonl, save, train

    model = train(read_jsonl("articles.jsonl.gz"))
    save(model, "newstilt-model.joblib")          # + newstilt-model.json (metadata)
    scorer = load("newstilt-model.joblib")        # verified; raises ModelError otherwise
    scorer.score("Title", "Text of the article...")

See ``classifier/MODEL_CARD.md`` for what the model is for, how it was measured, and its limits.
"""
from __future__ import annotations

from .data import LABELS, MAX_CHARS, fingerprint, neutralise, read_jsonl
from .errors import ModelError, TrainingDataError
from .evaluate import evaluate
from .model import DEFAULT_PARAMS, ScoringModel, TrainedModel
from .persist import load, save
from .training import train

__all__ = [
    "DEFAULT_PARAMS",
    "LABELS",
    "MAX_CHARS",
    "ModelError",
    "ScoringModel",
    "TrainedModel",
    "TrainingDataError",
    "evaluate",
    "fingerprint",
    "load",
    "neutralise",
    "read_jsonl",
    "save",
    "train",
]
