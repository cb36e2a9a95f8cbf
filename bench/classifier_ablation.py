"""What each step of the scorer buys: outlet-grouped cross-validation of a cumulative sequence of configurations.

    python bench/classifier_ablation.py --data ../shared/data/articles-dev.jsonl.gz [--json ablation.json]

The documents are tokenised once per text form (raw title + text, and neutralised); every configuration then
runs the same outlet-grouped folds through :func:`classifier.model.fit_from_counts`, exactly as
``newstilt evaluate`` does, so the figures are comparable with the model card's. Each row adds one step to the
row above it; the last row is :data:`classifier.model.DEFAULT_PARAMS`. Single process throughout.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier_bench import line  # noqa: E402 - the sibling script, on sys.path as this one's folder

from newstilt.classifier import read_jsonl  # noqa: E402
from newstilt.classifier.data import clean_records, compose  # noqa: E402
from newstilt.classifier.evaluate import _cross_validate, _splits  # noqa: E402
from newstilt.classifier.model import DEFAULT_PARAMS, fit_from_counts, neutralise_all, resolve_params, tokenize  # noqa: E402

#: ``(name, text form, parameter changes)``; each step's parameters are the previous step's plus its changes.
STEPS: list[tuple[str, str, dict]] = [
    (
        "raw text, no outlet filter/weights/ranking, C 1",
        "raw",
        {"min_outlets": 1, "outlet_weight_power": 0.0, "max_terms": None, "C": 1.0, "drop_stop_words": False},
    ),
    ("+ neutralisation", "neutral", {}),
    ("+ min_outlets 5", "neutral", {"min_outlets": 5}),
    ("+ outlet-balanced weights (power 1)", "neutral", {"outlet_weight_power": 1.0}),
    ("+ min_outlets 10", "neutral", {"min_outlets": 10}),
    ("+ max_terms 30000, outlet ANOVA ranking", "neutral", {"max_terms": 30_000}),
    ("+ C 3", "neutral", {"C": 3.0}),
    ("+ no terms made only of stop words", "neutral", {"drop_stop_words": True}),
]


def configurations(steps=STEPS) -> list[tuple[str, str, dict]]:
    """The cumulative ``(name, text form, full parameters)`` of every step."""
    params = dict(DEFAULT_PARAMS)
    out = []
    for name, form, changes in steps:
        params = resolve_params({**params, **changes})
        out.append((name, form, dict(params)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="JSONL(.gz) of {title, text, label, domain}")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--limit", type=int, help="only the first N articles (a quick check)")
    parser.add_argument("--json", type=Path, help="write every figure here (rewritten after each step)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    records = clean_records(read_jsonl(args.data))[: args.limit]
    labels = [record["label"] for record in records]
    domains = [record["domain"] for record in records]
    print(f"{len(records)} articles, {len(set(domains))} outlets, from {args.data}", flush=True)
    steps = configurations()
    assert steps[-1][2] == resolve_params(None), "the last step must be DEFAULT_PARAMS"

    started = time.perf_counter()
    texts = {
        "raw": [compose(record["title"], record["text"])[0] for record in records],
        "neutral": neutralise_all(records, progress=True),
    }
    # min_df 2 at tokenising time; each fold then applies the step's own min_df/max_df to its training rows.
    tokenised = {form: tokenize(docs, DEFAULT_PARAMS, min_df=2) for form, docs in texts.items()}
    del texts
    print(f"neutralised and tokenised in {time.perf_counter() - started:.0f} s "
          f"({', '.join(f'{form}: {counts.shape[1]} terms' for form, (counts, _) in tokenised.items())})", flush=True)
    splits = _splits("outlet-grouped", labels, domains, args.folds)

    report: dict = {"data": str(args.data), "records": len(records), "outlets": len(set(domains)),
                    "folds": args.folds, "steps": []}
    print(f"\n{'outlet-grouped ' + str(args.folds) + '-fold':<44} macro-F1        pooled   acc     MAE      time",
          flush=True)
    for name, form, params in steps:
        counts, terms = tokenised[form]

        def fit(rows, terms, y, groups, params=params):
            return fit_from_counts(rows, terms, y, groups, params)

        block = _cross_validate(counts, terms, labels, domains, splits, fit, "outlet-grouped", False)
        report["steps"].append({"name": name, "text": form, "params": params, **block})
        print(line(name, block, width=44), flush=True)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    best = max(report["steps"], key=lambda step: step["macro_f1"])
    print(f"\nbest fold-mean macro-F1: {best['name']} ({best['macro_f1']:.3f})")
    if args.json:
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
