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
* what the background clustering looks like (number of stories, sizes, spans), as a sanity check;
* **ingested vs analysed**: one article of each gold story is held out of the store; pairwise F1 over the
  stored gold articles, then each held-out article is analysed as the extension does (its page's URL and HTML,
  rendered by ``newsnet.py`` when ``--newsnet`` or ``../shared/tools/newsnet.py`` is there, through
  ``Newstilt.analyze``, nothing stored) and F1 is computed with it placed in the story analyze answered; then
  the held-out articles are imported too and the usual F1 over all gold articles follows;
* **purity**: gold stories split over several system stories, system stories merging several gold stories, and
  the largest time span of a system story holding more than one gold story;
* **summaries**: how many stories of two sources or more have one, how many bullets, how many distinct outlets
  they cite (against the story's sources), the share of bullets found verbatim in the cited article (must be
  100 %), and the time ``StoryRows.changed`` takes when an article joins a story (summary recomputed);
* **listing** with everything stored: 50 latest stories, 50 latest of two sources or more, 50 blindspots,
  each read through the facade (one query), p50/p95 over repeated calls.

``--cluster max_span_days=7,span_penalty=0`` runs the clusterer with other parameters (the figures before the
mixed-event fix come from exactly that).

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
from newstilt.cluster import ClusterConfig, Clusterer  # noqa: E402
from newstilt.config import Settings  # noqa: E402
from newstilt.core import Newstilt  # noqa: E402
from newstilt.coverage import BlindspotRule  # noqa: E402
from newstilt.ingest import resolve_outlet  # noqa: E402
from newstilt.ratings import Ratings  # noqa: E402
from newstilt.storage import Store, articles, stories  # noqa: E402
from newstilt.storyrows import StoryQuery, StoryRows  # noqa: E402
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


class TimedRows:
    """Wraps ``StoryRows.changed`` (the clusterer's hook): times each call, apart for stories of 2+ sources
    (whose summary is recomputed when a counted article joins)."""

    def __init__(self, inner: StoryRows):
        self.inner = inner
        self.summary_ms: list[float] = []
        self.counts_ms: list[float] = []
        self.record = True

    def changed(self, conn, story_id, article_id=None):
        start = time.perf_counter()
        self.inner.changed(conn, story_id, article_id)
        elapsed = (time.perf_counter() - start) * 1000
        if self.record:
            sources = conn.execute(sa.select(stories.c.source_count).where(stories.c.id == story_id)).scalar()
            (self.summary_ms if sources >= 2 else self.counts_ms).append(elapsed)


def choose_held_out(gold: list[dict]) -> set[str]:
    """One article of each gold story (its last with a URL no other gold line has), by normalised URL."""
    urls = Counter(item["norm_url"] for item in gold)
    chosen = {}
    for item in gold:
        if urls[item["norm_url"]] == 1:
            chosen[item["story_id"]] = item["norm_url"]
    return set(chosen.values())


def page_renderer(path: Path | None, stories_file: Path):
    """``html(item)`` for a gold article: newsnet's page when its tool is at ``path``, else a plain page."""
    if path is not None and path.exists():
        import importlib.util

        spec = importlib.util.spec_from_file_location("newsnet", path)
        newsnet = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(newsnet)
        net = newsnet.NewsNet(newsnet.load_articles([str(stories_file)]), "http://127.0.0.1:8800",
                              argparse.Namespace(seed=0, feed_limit=100, full_content=False))
        return lambda item: net.page(item["domain"], str(item["id"])), f"newsnet ({path})"
    import html as htmlmod

    def plain(item):
        body = "".join(f"<p>{htmlmod.escape(p)}</p>" for p in (item.get("text") or "").split("\n") if p.strip())
        when = f'<meta property="article:published_time" content="{item["published"].isoformat()}">' \
            if item.get("published") else ""
        return (f'<html><head><title>{htmlmod.escape(item["title"])}</title>'
                f'<link rel="canonical" href="{htmlmod.escape(item["url"])}">{when}</head>'
                f"<body><article><h1>{htmlmod.escape(item['title'])}</h1>{body}</article></body></html>")
    return plain, "plain HTML (newsnet.py not found)"


def purity(gold: list[dict], spans: dict[int, tuple]) -> dict:
    """Gold stories split, system stories merging gold stories, largest span of a merging story (days)."""
    systems_of, golds_of = defaultdict(set), defaultdict(set)
    for item in gold:
        if item["system"] is not None:
            systems_of[item["story_id"]].add(item["system"])
            golds_of[item["system"]].add(item["story_id"])
    merging = [sid for sid, events in golds_of.items() if len(events) > 1]
    span_days = [(spans[sid][1] - spans[sid][0]).total_seconds() / 86400 for sid in merging
                 if sid in spans and spans[sid][0] is not None and spans[sid][1] is not None]
    return {"gold_stories": len({item["story_id"] for item in gold}),
            "split": sum(len(s) > 1 for s in systems_of.values()),
            "merged_stories": len(merging), "gold_stories_merged": sum(len(golds_of[sid]) for sid in merging),
            "largest_merged_span_days": max(span_days, default=0.0)}


def summary_figures(conn) -> dict:
    """Summaries of the stored stories of two sources or more: coverage of outlets, verbatim bullets."""
    rows = conn.execute(sa.select(stories.c.id, stories.c.source_count, stories.c.summary)
                        .where(stories.c.source_count >= 2)).all()
    with_summary = [(r.id, r.source_count, json.loads(r.summary)) for r in rows if r.summary]
    bullets = [b for _, _, summary in with_summary for b in summary]
    texts = {}
    ids = sorted({b["article_id"] for b in bullets})
    for i in range(0, len(ids), 500):
        texts.update(conn.execute(sa.select(articles.c.id, articles.c.text)
                                  .where(articles.c.id.in_(ids[i:i + 500]))).all())
    verbatim = sum(b["text"] in (texts.get(b["article_id"]) or "") for b in bullets)
    outlets = [len({b["outlet"] for b in summary}) for _, _, summary in with_summary]
    coverage = [len({b["outlet"] for b in summary}) / min(n, len(summary)) for _, n, summary in with_summary]
    sizes = Counter(len(summary) for _, _, summary in with_summary)
    return {"stories_2plus_sources": len(rows), "with_summary": len(with_summary),
            "bullets": len(bullets), "bullets_per_summary": dict(sorted(sizes.items())),
            "verbatim_share": verbatim / len(bullets) if bullets else None,
            "mean_outlets_cited": statistics.fmean(outlets) if outlets else None,
            "share_citing_2plus_outlets": sum(o >= 2 for o in outlets) / len(outlets) if outlets else None,
            "outlet_coverage": statistics.fmean(coverage) if coverage else None}


def listing_times(nt: Newstilt, repeats: int = 30) -> dict:
    """Milliseconds to list 50 stories (latest; latest with 2+ sources; blindspots), p50/p95 over ``repeats``."""
    out = {}
    for name, query in (("latest_50", StoryQuery(limit=50)), ("latest_50_2plus", StoryQuery(limit=50, min_sources=2)),
                        ("blindspots_50", StoryQuery(limit=50, blindspot="any")),
                        ("blindspots_left_50", StoryQuery(limit=50, blindspot="left")),
                        ("page_5_of_latest", StoryQuery(limit=50, offset=200))):
        times, found = [], 0
        for _ in range(repeats):
            start = time.perf_counter()
            items, _ = nt.stories(query)
            times.append((time.perf_counter() - start) * 1000)
            found = len(items)
        out[name] = {"p50": percentile(times, 0.5), "p95": percentile(times, 0.95), "stories": found}
    return out


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
    parser.add_argument("--newsnet", type=Path, default=None,
                        help="newsnet.py, to render the analysed pages (default: ../tools/newsnet.py beside the data)")
    parser.add_argument("--cluster", default="", help="ClusterConfig overrides, e.g. max_span_days=7,span_penalty=0")
    args = parser.parse_args(argv)
    args.newsnet = args.newsnet or args.stories.resolve().parent.parent / "tools" / "newsnet.py"
    args.cluster_config = ClusterConfig(**{k: type(getattr(ClusterConfig(), k))(v) for k, v in (
        part.split("=") for part in args.cluster.split(",") if part)})
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    cleanup = None
    tmp = tempfile.TemporaryDirectory(prefix="newstilt-bench-")
    url = args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3"
    if url.startswith(("postgres://", "postgresql")):
        url, cleanup = temporary_postgres(url)
    store = Store(url)
    store.ensure_schema()
    args.database_url_resolved = url
    args.tmp = tmp.name
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
    ratings = Ratings(store, max_age=Newstilt.RATINGS_MAX_AGE)  # as the service reads them
    index = ratings.index()
    rows = TimedRows(StoryRows(ratings, BlindspotRule()))

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

    clusterer = Clusterer(store, config=args.cluster_config, on_change=rows.changed)
    probe_ms: dict[str, dict[str, list[float]]] = {}

    def measure(conn):
        clustered = conn.execute(sa.select(sa.func.count()).select_from(articles)
                                 .where(articles.c.story_id.is_not(None))).scalar()
        rows.record = False
        probe_ms[f"at {clustered:,} clustered"] = {"add": probe_add(conn, store, clusterer, probes),
                                                   "match": probe_match(conn, clusterer, probes)}
        rows.record = True

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

    # the gold articles but one of each story: stored, then the held-out ones analysed as the extension does
    held = choose_held_out(gold)
    gold_lines = args.stories.read_text(encoding="utf-8").splitlines(keepends=True)
    stored_file, held_file = Path(args.tmp) / "gold-stored.jsonl", Path(args.tmp) / "gold-held.jsonl"
    stored_file.write_text("".join(line for line in gold_lines if line.strip() and
                                   normalize_url(json.loads(line)["url"]) not in held), encoding="utf-8")
    held_file.write_text("".join(line for line in gold_lines if line.strip() and
                                 normalize_url(json.loads(line)["url"]) in held), encoding="utf-8")
    timed.times.clear()
    start = time.perf_counter()
    counts_gold = import_jsonl(store, stored_file, clusterer=timed, outlet_for=outlet_for, progress=args.progress)
    gold_seconds = time.perf_counter() - start

    def system_stories() -> dict[str, int | None]:
        with store.connect() as conn:
            return dict(conn.execute(sa.select(articles.c.url, articles.c.story_id)
                                     .where(articles.c.url.in_([g["norm_url"] for g in gold]))).all())

    by_url = system_stories()
    stored_gold = [dict(item, system=by_url.get(item["norm_url"])) for item in gold if item["norm_url"] not in held]
    quality_ingested = pairwise(stored_gold)

    render, renderer = page_renderer(args.newsnet, args.stories)
    nt = Newstilt(Settings.from_env({}, data_dir=Path(args.tmp), database_url=args.database_url_resolved,
                                    ingest=False))
    analysed, analyze_ms = [], []
    for item in gold:
        if item["norm_url"] in held:
            start = time.perf_counter()
            answer = nt.analyze(item["url"], html=render(item))
            analyze_ms.append((time.perf_counter() - start) * 1000)
            analysed.append(dict(item, system=answer["story"]["id"] if answer["story"] else None))
    quality_analysed = pairwise(stored_gold + analysed)
    matched = sum(a["system"] is not None for a in analysed)

    counts_held = import_jsonl(store, held_file, clusterer=timed, outlet_for=outlet_for, progress=False)
    for name, value in counts_held.items():
        counts_gold[name] += value
    gold_add_ms = [t for t, _, _ in timed.times]

    with store.connect() as conn:
        undated = set(conn.execute(sa.select(articles.c.id).where(articles.c.published.is_(None))).scalars())
        stored = conn.execute(sa.select(sa.func.count()).select_from(articles)).scalar()
        shape = background_shape(conn)
        spans = {r.id: (r.first_published, r.last_published) for r in conn.execute(
            sa.select(stories.c.id, stories.c.first_published, stories.c.last_published))}
        summaries = summary_figures(conn)
    by_url = system_stories()
    for item in gold:
        item["system"] = by_url.get(item["norm_url"])
    quality = pairwise(gold)
    listing = listing_times(nt)
    nt.close()

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
        "quality_ingested": {**quality_ingested, "articles": len(stored_gold)},
        "quality_analysed_not_stored": {**quality_analysed, "analysed": len(analysed), "matched": matched,
                                        "pages": renderer, "analyze_ms": summary(analyze_ms)},
        "purity": purity(gold, spans),
        "summaries": {**summaries, "update_ms_2plus_sources": summary(rows.summary_ms),
                      "update_p99_ms": percentile(rows.summary_ms, 0.99),
                      "update_ms_single_source": summary(rows.counts_ms)},
        "listing_ms": listing,
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
    for name, label in (("quality_ingested", "ingested only"), ("quality_analysed_not_stored", "analysed")):
        g = f[name]
        print(f"  {label:>13}: precision {g['precision']:.3f}  recall {g['recall']:.3f}  F1 {g['f1']:.3f}"
              + (f"  ({g['matched']} of {g['analysed']} held-out pages matched a story; pages: {g['pages']}; "
                 f"analyze p50 {g['analyze_ms']['p50']:.1f} ms)" if name.startswith("quality_analysed")
                 else f"  ({g['articles']} stored gold articles)"))
    pu = f["purity"]
    print(f"  purity: {pu['split']} of {pu['gold_stories']} gold stories split, {pu['merged_stories']} system "
          f"stories merge {pu['gold_stories_merged']} gold stories, largest span of a merging story "
          f"{pu['largest_merged_span_days']:.1f} days")
    sm = f["summaries"]
    print(f"  summaries: {sm['with_summary']} of {sm['stories_2plus_sources']} stories of 2+ sources, "
          f"{sm['bullets']} bullets {sm['bullets_per_summary']}, verbatim {sm['verbatim_share']:.1%}, "
          f"outlets cited mean {sm['mean_outlets_cited']:.2f} (2+ outlets: {sm['share_citing_2plus_outlets']:.1%}, "
          f"coverage {sm['outlet_coverage']:.1%}); update on join p50 {sm['update_ms_2plus_sources']['p50']:.1f} ms, "
          f"p95 {sm['update_ms_2plus_sources']['p95']:.1f} ms "
          f"(single-source {sm['update_ms_single_source']['p50']:.2f})")
    for name, t in f["listing_ms"].items():
        print(f"  list {name:>20}: p50 {t['p50']:.1f} ms  p95 {t['p95']:.1f} ms  ({t['stories']} stories)")
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
