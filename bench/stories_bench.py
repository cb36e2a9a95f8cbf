"""Story clustering benchmark: gold grouping quality among background noise, throughput and flat cost.

    python bench/stories_bench.py --stories ../shared/data/stories-dev.jsonl \\
        --background ../shared/data/articles-dev.jsonl.gz [--database-url URL] [--json FILE]

Loads the background articles and then the gold articles through ``server.bulk.import_jsonl`` into a fresh
store (SQLite in a temporary directory by default; a PostgreSQL URL gets a temporary schema, dropped after) and
reports:

* pairwise precision, recall and F1 over pairs of gold articles (pairs the gold ``story_id`` groups together
  vs. pairs the system put in one story), and the share of gold articles whose story holds all their partners;
* import throughput (articles per second, storing and clustering);
* the CPU cost per article at ~5,000 clustered articles vs. at all ~33,700: 200 background articles are held out
  of the import, chosen early in its time span so that everything within their time window is clustered by
  the 5,000th article; they are stored and clustered (in a savepoint, rolled back) and matched at both sizes,
  so the two measurements differ only in the size of the store (each the fastest of three runs, in CPU time).
  The mean ``add`` time over the first and the
  last 5,000 articles of the import is reported too (wall and CPU), though it also reflects how busy the news
  was on those dates (later years are denser, undated articles come last);
* ``match`` latency (p50/p95/p99) of the gold articles once everything is stored, one connection per call as
  the analyze API does it;
* what the background clustering looks like (number of stories, sizes, spans), as a sanity check.

The gold labels are read only here, to score the result: the import sees URLs, titles, texts and dates.
"""
from __future__ import annotations

import argparse
import gzip
import itertools
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newstilt.bulk import import_jsonl, parse_published  # noqa: E402
from newstilt.cluster import Clusterer  # noqa: E402
from newstilt.ingest import resolve_outlet  # noqa: E402
from newstilt.ratings import Ratings  # noqa: E402
from newstilt.storage import Store, articles, stories  # noqa: E402
from newstilt.urls import normalize_url  # noqa: E402

PROBE_AT = 5000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class TimedClusterer:
    """Wraps a Clusterer: times every ``add`` (wall and CPU) and runs a callback before add number ``PROBE_AT``."""

    def __init__(self, inner: Clusterer, before_probe=None):
        self.inner = inner
        self.before_probe = before_probe
        self.times: list[tuple[float, float, int]] = []  # (wall ms, cpu ms, article id)

    def lock(self, conn) -> None:
        self.inner.lock(conn)

    def add(self, conn, article_id):
        if len(self.times) == PROBE_AT and self.before_probe is not None:
            # inside the import's transaction: on SQLite every transaction takes the write lock
            self.before_probe(conn)
            self.before_probe = None
        wall, cpu = time.perf_counter(), time.process_time()
        assignment = self.inner.add(conn, article_id)
        self.times.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, article_id))
        return assignment


def choose_probes(lines: list[str], n: int) -> set[int]:
    """Line numbers of ``n`` dated articles from early in the file's time span, at least ``window`` days before
    the date the ``PROBE_AT``-th article (in publication order) reaches: when ``PROBE_AT`` articles are clustered,
    everything within their time window is clustered too, exactly as at full size."""
    dated = []
    for i, line in enumerate(lines):
        try:
            published = parse_published(json.loads(line).get("published"))
        except ValueError:
            continue
        if published is not None:
            dated.append((published, i))
    dated.sort()
    cutoff = dated[int(PROBE_AT * 0.8)][0] - timedelta(days=7)
    early = [i for published, i in dated[20:] if published <= cutoff]
    step = max(1, len(early) // n)
    return set(early[::step][:n])


#: Each probe set is timed this many times and each article's fastest run kept (as ``timeit`` does): on a shared
#: virtual machine a burst of work elsewhere slows single runs, never the fastest of a few.
PROBE_REPEATS = 3


def probe_match(conn, clusterer: Clusterer, probes: list[dict]) -> list[float]:
    """CPU time (ms) of ``match`` for each probe on one connection, fastest of ``PROBE_REPEATS`` runs."""
    runs = []
    for _ in range(PROBE_REPEATS):
        out = []
        for item in probes:
            start = time.process_time()
            clusterer.match(conn, item["title"], item["text"], item["published"])
            out.append((time.process_time() - start) * 1000)
        runs.append(out)
    return [min(times) for times in zip(*runs, strict=True)]


def probe_add(conn, store: Store, clusterer: Clusterer, probes: list[dict]) -> list[float]:
    """CPU time (ms) of storing and clustering each probe article, inside a savepoint that is rolled back,
    fastest of ``PROBE_REPEATS`` runs."""
    runs = []
    for _ in range(PROBE_REPEATS):
        out = []
        savepoint = conn.begin_nested()
        try:
            for item in probes:
                start = time.process_time()
                article_id = store.add_article(conn, url=item["norm_url"], title=item["title"], text=item["text"],
                                               origin="import", published=item["published"])
                clusterer.add(conn, article_id)
                out.append((time.process_time() - start) * 1000)
        finally:
            savepoint.rollback()
        runs.append(out)
    return [min(times) for times in zip(*runs, strict=True)]


def summary(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values), "p50": percentile(values, 0.5), "p95": percentile(values, 0.95)}


def pairwise(gold: list[dict]) -> dict:
    tp = fp = fn = 0
    for a, b in itertools.combinations(gold, 2):
        same_gold = a["story_id"] == b["story_id"]
        same_system = a["system"] is not None and a["system"] == b["system"]
        tp += same_gold and same_system
        fp += same_system and not same_gold
        fn += same_gold and not same_system
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    partners = defaultdict(list)
    for item in gold:
        partners[item["story_id"]].append(item)
    complete = sum(all(p["system"] == item["system"] for p in partners[item["story_id"]]) for item in gold)
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": tp, "false_pairs": fp,
            "missed_pairs": fn, "all_partners_fraction": complete / len(gold)}


def background_shape(conn) -> dict:
    rows = conn.execute(sa.select(stories.c.article_count, stories.c.first_published,
                                  stories.c.last_published)).all()
    sizes = Counter(r.article_count for r in rows)
    spans = [(r.last_published - r.first_published).days for r in rows if r.first_published and r.last_published]
    return {"stories": len(rows), "singletons": sizes[1], "in_stories_of_2_plus": sum(n * c for n, c in sizes.items()
                                                                                      if n > 1),
            "largest": max(sizes) if sizes else 0, "size_p99": percentile([r.article_count for r in rows], 0.99),
            "max_span_days": max(spans, default=0)}


def temporary_postgres(url: str):
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"

    def drop():
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return f"{url}{separator}options=-csearch_path%3D{schema}", drop


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=Path, required=True, help="gold JSONL with story_id")
    parser.add_argument("--background", type=Path, required=True, help="background JSONL(.gz)")
    parser.add_argument("--database-url", default=None,
                        help="default: SQLite in a temporary directory; PostgreSQL gets a temporary schema")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument("--show", action="store_true", help="list the gold events the system split or merged")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    parser.add_argument("--probes", type=int, default=200, help="held-out articles timed at ~5k and at full size")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    cleanup = None
    tmp = tempfile.TemporaryDirectory(prefix="newstilt-bench-")
    url = args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3"
    if url.startswith(("postgres://", "postgresql")):
        url, cleanup = temporary_postgres(url)
    store = Store(url)
    store.ensure_schema()
    try:
        return run(store, args)
    finally:
        store.close()
        if cleanup:
            cleanup()
        tmp.cleanup()


def run(store: Store, args) -> int:
    gold = read_jsonl(args.stories)
    for item in gold:
        item["norm_url"] = normalize_url(item["url"])
        try:
            item["published"] = parse_published(item.get("published"))
        except ValueError:
            item["published"] = None
    index = Ratings(store).index()

    def outlet_for(url: str):
        return resolve_outlet(index, urls=(url,))

    # held-out probe articles: imported last, timed before at ~5k and at full size
    opener = gzip.open if args.background.suffix == ".gz" else open
    with opener(args.background, "rt", encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    held_out = choose_probes(lines, args.probes)
    tmp = Path(tempfile.mkdtemp(prefix="newstilt-bench-files-"))
    main_file, probe_file = tmp / "background.jsonl", tmp / "probes.jsonl"
    main_file.write_text("".join(line for i, line in enumerate(lines) if i not in held_out), encoding="utf-8")
    probe_file.write_text("".join(lines[i] for i in sorted(held_out)), encoding="utf-8")
    probes = [json.loads(lines[i]) for i in sorted(held_out)]
    del lines
    for item in probes:
        item["norm_url"] = normalize_url(item["url"])
        item["published"] = parse_published(item["published"])

    clusterer = Clusterer(store)
    probe_ms: dict[str, dict[str, list[float]]] = {}

    def measure(conn):
        clustered = conn.execute(sa.select(sa.func.count()).select_from(articles)
                                 .where(articles.c.story_id.is_not(None))).scalar()
        probe_ms[f"at {clustered:,} clustered"] = {"add": probe_add(conn, store, clusterer, probes),
                                                   "match": probe_match(conn, clusterer, probes)}

    timed = TimedClusterer(clusterer, before_probe=measure)
    start = time.perf_counter()
    counts_bg = import_jsonl(store, main_file, clusterer=timed, outlet_for=outlet_for, progress=args.progress)
    bg_times = list(timed.times)
    with store.begin() as conn:
        clusterer.lock(conn)
        measure(conn)
    counts_probe = import_jsonl(store, probe_file, clusterer=timed, outlet_for=outlet_for, progress=False)
    bg_seconds = time.perf_counter() - start
    for name, value in counts_probe.items():
        counts_bg[name] += value
    shutil.rmtree(tmp)

    timed.times.clear()
    start = time.perf_counter()
    counts_gold = import_jsonl(store, args.stories, clusterer=timed, outlet_for=outlet_for, progress=args.progress)
    gold_seconds = time.perf_counter() - start
    gold_add_ms = [t for t, _, _ in timed.times]

    with store.connect() as conn:
        undated = set(conn.execute(sa.select(articles.c.id).where(articles.c.published.is_(None))).scalars())
        by_url = dict(conn.execute(sa.select(articles.c.url, articles.c.story_id)
                                   .where(articles.c.url.in_([g["norm_url"] for g in gold]))).all())
        stored = conn.execute(sa.select(sa.func.count()).select_from(articles)).scalar()
        shape = background_shape(conn)
    for item in gold:
        item["system"] = by_url.get(item["norm_url"])
    quality = pairwise(gold)

    match_ms, agree = [], 0
    for item in gold:
        t0 = time.perf_counter()
        with store.connect() as conn:
            found = clusterer.match(conn, item["title"], item["text"], item["published"])
        match_ms.append((time.perf_counter() - t0) * 1000)
        agree += found is not None and found.story_id == item["system"]

    n = PROBE_AT
    dated = [(wall, cpu) for wall, cpu, article_id in bg_times if article_id not in undated]
    sizes = list(probe_ms)
    added = counts_bg["added"] + counts_gold["added"]
    figures = {
        "stored_articles": stored,
        "gold_articles": len(gold),
        "quality": quality,
        "import": {
            "background": counts_bg, "gold": counts_gold,
            "background_seconds": round(bg_seconds, 1),
            "articles_per_second": round(added / (bg_seconds + gold_seconds), 1),
        },
        "probe": {
            "articles": len(probes),
            **{size: {"add_ms": summary(m["add"]), "match_ms": summary(m["match"])} for size, m in probe_ms.items()},
            "add_ratio": statistics.fmean(probe_ms[sizes[-1]]["add"]) / statistics.fmean(probe_ms[sizes[0]]["add"]),
            "match_ratio": (statistics.fmean(probe_ms[sizes[-1]]["match"])
                            / statistics.fmean(probe_ms[sizes[0]]["match"])),
        },
        "add_ms_import_order": {
            "first_5k_wall": statistics.fmean(t for t, _, _ in bg_times[:n]),
            "last_5k_wall": statistics.fmean(t for t, _, _ in bg_times[-n:]),
            "first_5k_cpu": statistics.fmean(c for _, c, _ in bg_times[:n]),
            "last_5k_cpu": statistics.fmean(c for _, c, _ in bg_times[-n:]),
            "first_5k_dated_cpu": statistics.fmean(c for _, c in dated[:n]),
            "last_5k_dated_cpu": statistics.fmean(c for _, c in dated[-n:]),
            "gold_wall": statistics.fmean(gold_add_ms) if gold_add_ms else None,
        },
        "match_ms_at_full": {"p50": percentile(match_ms, 0.5), "p95": percentile(match_ms, 0.95),
                             "p99": percentile(match_ms, 0.99), "agrees_with_stored_story": agree / len(gold)},
        "background_stories": shape,
        "backend": store.backend,
        "config": vars(clusterer.config),
        "run_at": datetime.now().isoformat(timespec="seconds"),
    }
    report(figures)
    if args.show:
        show(gold)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


def report(f: dict) -> None:
    q, a, imp, p = f["quality"], f["add_ms_import_order"], f["import"], f["probe"]
    print(f"\nStory clustering benchmark ({f['backend']}, {f['stored_articles']:,} stored articles, "
          f"{f['gold_articles']} gold)")
    print(f"  pairwise   precision {q['precision']:.3f}  recall {q['recall']:.3f}  F1 {q['f1']:.3f}  "
          f"({q['true_pairs']} right, {q['false_pairs']} wrong, {q['missed_pairs']} missed pairs)")
    print(f"  all gold partners in the article's story: {q['all_partners_fraction']:.3f}")
    print(f"  import     {imp['articles_per_second']:.0f} articles/s (store + fingerprint + cluster); "
          f"background {imp['background_seconds']:.0f} s: {imp['background']}")
    print(f"  per-article cost, {p['articles']} held-out probe articles (same dates, same neighbourhood):")
    for size, m in p.items():
        if isinstance(m, dict):
            print(f"    {size:>22}: store+add mean {m['add_ms']['mean']:.2f} ms CPU (p95 {m['add_ms']['p95']:.2f}), "
                  f"match mean {m['match_ms']['mean']:.2f} ms CPU (p95 {m['match_ms']['p95']:.2f})")
    print(f"    ratio full/5k: add x{p['add_ratio']:.2f}, match x{p['match_ratio']:.2f}")
    print(f"  add() in import order: first 5k {a['first_5k_wall']:.2f} ms, last 5k {a['last_5k_wall']:.2f} ms wall; "
          f"CPU {a['first_5k_cpu']:.2f} -> {a['last_5k_cpu']:.2f} ms (dated only {a['first_5k_dated_cpu']:.2f} -> "
          f"{a['last_5k_dated_cpu']:.2f}); gold {a['gold_wall']:.2f} ms")
    m = f["match_ms_at_full"]
    print(f"  match() gold at full size: p50 {m['p50']:.2f} ms  p95 {m['p95']:.2f} ms  p99 {m['p99']:.2f} ms  "
          f"(finds the stored story for {m['agrees_with_stored_story']:.0%})")
    print(f"  background stories: {f['background_stories']}")


def show(gold: list[dict]) -> None:
    groups = defaultdict(list)
    for item in gold:
        groups[item["story_id"]].append(item)
    by_system = defaultdict(set)
    for item in gold:
        by_system[item["system"]].add(item["story_id"])
    for sid, items in groups.items():
        systems = {i["system"] for i in items}
        merged = any(len(by_system[s]) > 1 for s in systems)
        if len(systems) > 1 or merged:
            print(f"  {sid[:24]}: {'split' if len(systems) > 1 else ''} {'merged' if merged else ''}")
            for item in items:
                print(f"     story {item['system']}: {item['source'][:16]:<16} {item['title'][:70]}")


if __name__ == "__main__":
    sys.exit(main())
