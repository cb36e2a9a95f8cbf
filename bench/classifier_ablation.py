"""Which modelling choices to keep: each one measured on both protocols beside the plain baseline.

    python bench/classifier_ablation.py --data ../shared/data/articles-dev.jsonl.gz [--only NAME ...]

A choice is kept only if it beats the shipped configuration (:data:`classifier.model.DEFAULT_PARAMS`) on
*both* protocols of :func:`classifier.evaluate.evaluate`: the outlet-grouped folds and the largest 30 outlets
held out. The first row is the plain baseline, the second the shipped model; every later row is the shipped
model with one change, among them the 0.1.0 choices this release dropped. About 15 fits a row: on two cores,
10-20 minutes a row.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newstilt.classifier import read_jsonl  # noqa: E402
from newstilt.classifier.data import clean_records  # noqa: E402
from newstilt.classifier.evaluate import evaluate  # noqa: E402

#: ``name -> parameter changes`` to the shipped configuration.
VARIANTS: dict[str, dict] = {
    "shipped": {},
    "balanced class weights": {"class_weight": "balanced"},
    "0.1.0: outlet-balanced sample weights": {"outlet_weight_power": 1.0},
    "0.1.0: terms of 10+ outlets, 30,000 by outlet ANOVA, no stop-word-only terms":
        {"min_outlets": 10, "max_terms": 30_000, "drop_stop_words": True, "max_features": None, "min_df": 5},
    "C 1": {"C": 1.0},
    "C 10": {"C": 10.0},
}

COLUMNS = ("grouped pooled", "grouped fold mean", "held-out pooled", "held-out outlet-equal")


def row(result: dict, prefix: str = "") -> list[float]:
    grouped, held = result["grouped"], result["leave_outlet_out"]
    return [grouped[f"{prefix}macro_f1"], grouped[f"{prefix}fold_macro_f1"], held[f"{prefix}macro_f1"],
            held[f"{prefix}outlet_macro_f1"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="JSONL(.gz) of {title, text, label, domain}")
    parser.add_argument("--only", nargs="*", choices=list(VARIANTS), help="run only these variants")
    parser.add_argument("--json", type=Path, help="write every figure here (rewritten after each row)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    records = clean_records(read_jsonl(args.data))
    names = args.only or list(VARIANTS)
    print(f"{len(records)} articles; macro-F1: " + " | ".join(COLUMNS))
    figures: dict[str, list[float]] = {}
    for position, name in enumerate(names):
        result = evaluate(records, params=VARIANTS[name], baseline=position == 0, progress=True)
        if position == 0:
            figures["plain baseline"] = row(result, "baseline_")
            print(f"{'plain baseline':<60} " + " | ".join(f"{v:.3f}" for v in figures["plain baseline"]))
        figures[name] = row(result)
        print(f"{name:<60} " + " | ".join(f"{v:.3f}" for v in figures[name]), flush=True)
        if args.json:
            args.json.write_text(json.dumps({"columns": COLUMNS, "rows": figures}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
