"""Quality gate: hand-written snippets from fifteen fake outlets, scored on outlets held out of training.

The floors live in ``tests/resources/classifier/quality_baseline.json``; a change that lowers the
outlet-grouped figures below them fails here. Raise the floors when the model improves (keep a small margin).
The gate can fail: with the outlets' labels shuffled, the same evaluation scores a pooled macro-F1 of 0.27-0.48.
"""
from __future__ import annotations

import json
from pathlib import Path

from newstilt.classifier import evaluate, read_jsonl

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "classifier"


def test_outlet_grouped_quality_does_not_drop():
    baseline = json.loads((RESOURCES / "quality_baseline.json").read_text(encoding="utf-8"))
    records = list(read_jsonl(RESOURCES / "snippets.jsonl"))
    assert len(records) == baseline["records"]
    result = evaluate(records, folds=baseline["folds"], params=baseline["params"], progress=False)
    grouped = result["grouped"]
    measured = {
        "pooled_macro_f1": grouped["pooled"]["macro_f1"],
        "pooled_accuracy": grouped["pooled"]["accuracy"],
        "mae": grouped["mae"],
    }
    floors = baseline["floors"]
    assert measured["pooled_macro_f1"] >= floors["pooled_macro_f1"], measured
    assert measured["pooled_accuracy"] >= floors["pooled_accuracy"], measured
    assert measured["mae"] <= floors["max_mae"], measured
