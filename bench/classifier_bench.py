"""Benchmark the article scorer: outlet-grouped quality against a plain baseline, training time, size, latency.

    python bench/classifier_bench.py --data ../shared/data/articles-dev.jsonl.gz

In one run: outlet-grouped k-fold macro-F1 (fold mean and pooled), accuracy and MAE of the newstilt model and
of plain TF-IDF + logistic regression on the same folds; then the time to train on everything, the model's
size on disk, the time to load it, and ``score()`` latency per article (p50/p99) on a sample of the data.
Nothing is written outside a temporary directory unless ``--json`` or ``--keep-model`` is given.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newstilt.classifier import load, read_jsonl, save, train  # noqa: E402
from newstilt.classifier.data import clean_records  # noqa: E402
from newstilt.classifier.evaluate import BASELINE, evaluate  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def line(name: str, block: dict, width: int = 34) -> str:
    """One row of figures: fold-mean macro-F1 ± sd, pooled macro-F1, accuracy, MAE, seconds."""
    return (f"{name:<{width}} {block['macro_f1']:.3f} ± {block['macro_f1_sd']:.3f}   {block['pooled']['macro_f1']:.3f}"
            f"    {block['accuracy']:.3f}   {block['mae']:.3f}   {block['seconds']:>6.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="JSONL(.gz) of {title, text, label, domain}")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--latency-samples", type=int, default=500)
    parser.add_argument("--random-split", action="store_true", help="also the (flattering) shuffled split")
    parser.add_argument("--no-cv", action="store_true", help="skip cross-validation (timings only)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--keep-model", type=Path, help="save the trained model here instead of a temp dir")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    records = clean_records(read_jsonl(args.data))
    print(f"{len(records)} articles, {len({r['domain'] for r in records})} outlets, from {args.data}")
    report: dict = {"data": str(args.data), "records": len(records)}

    if not args.no_cv:
        result = evaluate(records, folds=args.folds, progress=True, baseline=True, random_split=args.random_split)
        report["cv"] = result
        print(f"\n{'outlet-grouped ' + str(args.folds) + '-fold':<34} macro-F1        pooled   acc     MAE      time")
        print(line("newstilt model", result["grouped"]))
        print(line("baseline (TF-IDF + LR, defaults)", result["baseline"]))
        if result["random"]:
            print(line("newstilt, RANDOM split (flatters)", result["random"]))
        print(f"baseline = {BASELINE}")

    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep_model or Path(scratch) / "newstilt-model.joblib"
        started = time.perf_counter()
        model = train(records, progress=True)
        train_seconds = time.perf_counter() - started
        save(model, path)
        size = path.stat().st_size
        started = time.perf_counter()
        scorer = load(path)
        load_seconds = time.perf_counter() - started

        sample = random.Random(0).sample(records, min(args.latency_samples, len(records)))
        scorer.score(sample[0]["title"], sample[0]["text"])  # warm-up
        latencies = []
        for record in sample:
            started = time.perf_counter()
            scorer.score(record["title"], record["text"])
            latencies.append((time.perf_counter() - started) * 1000)

    report["train"] = {
        "seconds": round(train_seconds, 1),
        "vocabulary": model.metadata["training"]["vocabulary"],
        "model_bytes": size,
        "load_seconds": round(load_seconds, 2),
        "latency_ms": {
            "samples": len(latencies),
            "p50": round(percentile(latencies, 0.50), 2),
            "p99": round(percentile(latencies, 0.99), 2),
            "mean": round(statistics.fmean(latencies), 2),
        },
    }
    t = report["train"]
    print(f"\ntraining on all {len(records)} articles: {t['seconds']:.0f} s, vocabulary {t['vocabulary']} terms")
    print(f"model on disk: {size / 1e6:.1f} MB (joblib, compress=3); load + verify: {t['load_seconds']:.2f} s")
    print(f"score() latency per article over {len(latencies)} articles: p50 {t['latency_ms']['p50']:.1f} ms, "
          f"p99 {t['latency_ms']['p99']:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
