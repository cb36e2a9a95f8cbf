"""Benchmark the article scorer the way the product uses it, beside the plain baseline, in one run.

    python bench/classifier_bench.py --data ../shared/data/articles-dev.jsonl.gz \
        --stance ../shared/data/basil-stance-dev.jsonl --stance-texts ../shared/data/stories-dev.jsonl

Trains exactly as ``newstilt train --baseline`` does: both protocols (outlet-grouped folds; the 30 largest
outlets held out, three at a time) for the newstilt model and for
``TfidfVectorizer(ngram_range=(1, 2), min_df=3, max_df=0.5, sublinear_tf=True, max_features=300000) +
LogisticRegression(C=4)`` on the same folds; the temperature and abstention threshold from the held-out outlets;
then the model on everything, and people's relative stance (BASIL) against the outlets' own ratings (the bundled
table). Then the model's size on disk, load time and ``score()`` latency. With ``--write-card`` the model card's
metrics section is rewritten. On two cores the whole run takes about an hour (31 fits of ~300,000 terms).
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

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newstilt.classifier import load, read_jsonl, save, train  # noqa: E402
from newstilt.classifier.cli import _read_stance, echo_evaluation, write_model_card_metrics  # noqa: E402
from newstilt.classifier.data import clean_records  # noqa: E402
from newstilt.classifier.model import resolve_params  # noqa: E402
from newstilt.classifier.training import without_stance_articles  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bundled_bias():
    """Each outlet's rating on the -3..+3 scale from the bundled table (the reference for the stance check)."""
    from newstilt.errors import NewstiltError
    from newstilt.ratings import build_index, parse_bundled, read_bundled_text

    index = build_index(parse_bundled(read_bundled_text()), [], {}, {}, "bundled")

    def bias(domain: str) -> float | None:
        try:
            return index.match(f"https://{domain}/").outlet.bias_score
        except NewstiltError:
            return None

    return bias


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="JSONL(.gz) of {title, text, label, domain}")
    parser.add_argument("--stance", type=Path, help="people's relative stance (basil-stance-dev.jsonl)")
    parser.add_argument("--stance-texts", type=Path, help="their articles (stories-dev.jsonl)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--held-out", type=int, default=30)
    parser.add_argument("--per-fold", type=int, default=3, help="largest outlets held out per fold")
    parser.add_argument("--jobs", type=int, default=1, help="folds fitted at once (processes)")
    parser.add_argument("--latency-samples", type=int, default=500)
    parser.add_argument("--write-card", action="store_true", help="rewrite classifier/MODEL_CARD.md's figures")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--keep-model", type=Path, help="save the trained model here instead of a temp dir")
    parser.add_argument("--logits", type=Path, help="save every held-out prediction here (.npz) for analysis")
    parser.add_argument("--reuse-logits", type=Path,
                        help="the .npz of --logits from a run on the same data: its neutral-view and baseline "
                             "folds are not fitted again (e.g. to measure raw_view on top of them)")
    parser.add_argument("--params", type=json.loads, default={}, help='parameter changes, e.g. \'{"raw_view": true}\'')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    records = clean_records(read_jsonl(args.data))
    print(f"{len(records)} articles, {len({r['domain'] for r in records})} outlets, from {args.data}")
    stance = _read_stance(args.stance, args.stance_texts) if args.stance else None
    records, excluded = without_stance_articles(records, stance)  # as train() does; said in its metadata
    reuse = None
    if args.reuse_logits:
        import numpy as np

        saved = np.load(args.reuse_logits, allow_pickle=False)
        if list(saved["labels"]) != [r["label"] for r in records] or \
                list(saved["domains"]) != [r["domain"] for r in records]:
            raise SystemExit(f"{args.reuse_logits} was made from other records")
        current = {k: v for k, v in resolve_params(args.params).items() if k != "raw_view"}
        if "params" in saved and json.loads(str(saved["params"])) != json.loads(json.dumps(current)):
            raise SystemExit(f"{args.reuse_logits} was made with other parameters than the neutral view's now")
        neutral = "neutral" if "neutral_grouped" in saved else "newstilt"
        reuse = {view: {name: saved[f"{key}_{name}"] for name in ("grouped", "leave_outlet_out")}
                 for view, key in (("neutral", neutral), ("baseline", "baseline"))}
        print(f"reusing the neutral view's and the baseline's held-out predictions of {args.reuse_logits}")
    started = time.perf_counter()
    model = train(records, progress=True, folds=args.folds, outlets=args.held_out, per_fold=args.per_fold,
                  baseline=True, stance=stance, outlet_bias=bundled_bias(), n_jobs=args.jobs,
                  keep_logits=bool(args.logits), reuse_logits=reuse, params=args.params)
    train_seconds = time.perf_counter() - started
    model.metadata["training"]["left_out_as_stance_articles"] += excluded
    echo_evaluation(model.metadata["evaluation"])
    if args.logits and model.evaluation_logits:
        import numpy as np

        kept = model.evaluation_logits
        np.savez_compressed(args.logits, labels=kept["labels"], domains=kept["domains"],
                            params=json.dumps({k: v for k, v in model.metadata["params"].items() if k != "raw_view"},
                                              sort_keys=True),
                            **{f"{who}_{name}": logits for who in ("newstilt", "neutral", "baseline")
                               for name, logits in (kept[who] or {}).items()})
        print(f"wrote {args.logits}")

    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep_model or Path(scratch) / "newstilt-model.joblib"
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
    if args.write_card:
        write_model_card_metrics(model.metadata, args.data.name)
        click.echo("rewrote the metrics section of classifier/MODEL_CARD.md")

    report = {
        "data": str(args.data),
        "evaluation": model.metadata["evaluation"],
        "training": model.metadata["training"],
        "seconds_with_evaluation": round(train_seconds, 1),
        "model_bytes": size,
        "load_seconds": round(load_seconds, 2),
        "latency_ms": {"samples": len(latencies), "p50": round(percentile(latencies, 0.50), 2),
                       "p99": round(percentile(latencies, 0.99), 2), "mean": round(statistics.fmean(latencies), 2)},
    }
    print(f"\nevaluated and trained in {train_seconds:.0f} s; vocabulary {model.metadata['training']['vocabulary']} "
          f"terms; {size / 1e6:.1f} MB on disk; load + verify {load_seconds:.2f} s")
    print(f"score() latency over {len(latencies)} articles: p50 {report['latency_ms']['p50']:.1f} ms, "
          f"p99 {report['latency_ms']['p99']:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
