"""End-to-end ingestion and analyze latency through newsnet, the local stand-in for the news web.

    python bench/ingest_bench.py --shared ../shared [--database-url URL] [--workers 8] [--json out.json]

1. Starts ``newsnet.py`` on 127.0.0.1 with the gold stories and the background articles, every article in
   its outlet's feed.
2. Registers every feed of newsnet's OPML in a fresh store and runs ingestion passes (fetch feed, fetch each
   page, extract with trafilatura, store, cluster) until nothing new arrives; prints articles per second,
   overall and per core used (CPU time of this process).
3. Trains the article scorer from the store (``newstilt train --from-store``: each article labelled by its
   outlet's rating) unless ``--no-model``, so that ``analyze`` answers as an installed service does, with the
   article's lean and its explanation.
4. Serves the app with waitress and POSTs each gold article's page (as the extension would: URL + HTML) to
   ``/api/v1/analyze``; prints p50/p95/p99 latency with the store at full size.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newstilt import make_newstilt  # noqa: E402
from newstilt.web import create_app  # noqa: E402


def start_newsnet(shared: Path, files: list[Path]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(shared / "tools" / "newsnet.py"), *map(str, files), "--port", "0",
         "--feed-limit", "100000"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    base = next(word for word in line.split() if word.startswith("http://")).rstrip("/")
    return proc, base


def steal_seconds() -> float | None:
    """CPU time the hypervisor gave to other guests so far (Linux /proc/stat), for reading the figures: on a
    shared virtual machine the same work costs more CPU time when the host is busy."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--no-background", action="store_true", help="only the gold stories (a quick run)")
    parser.add_argument("--no-model", action="store_true", help="analyze without an article scorer installed")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    stories_file = args.shared / "data" / "stories-dev.jsonl"
    background = args.shared / "data" / "articles-dev.jsonl.gz"
    files = [stories_file] if args.no_background else [stories_file, background]
    gold = [json.loads(line) for line in stories_file.read_text().splitlines() if line.strip()]

    tmp = Path(tempfile.mkdtemp(prefix="newstilt-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    newsnet, base = start_newsnet(args.shared, files)
    figures: dict = {"database": url.split(":")[0], "workers": args.workers}
    try:
        nt = make_newstilt(data_dir=tmp, database_url=url, fetch_allow=("127.0.0.1",), fetch_host_delay=0.0,
                           fetch_host_concurrency=args.workers * 2, ingest=False)
        opml = tmp / "feeds.opml"
        opml.write_bytes(httpx.get(f"{base}/feeds.opml", timeout=30).content)
        feeds = nt.import_feeds(opml)
        print(f"newsnet at {base}: {len(feeds)} feeds; store {url}")
        wall, cpu, steal = time.perf_counter(), time.process_time(), steal_seconds()
        stats = nt.ingest_pass(workers=args.workers)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        steal = None if steal is None else steal_seconds() - steal
        added = stats.articles_added
        figures.update({
            "articles_ingested": added, "pages_failed": stats.pages_failed, "feeds_failed": stats.feeds_failed,
            "ingest_seconds": round(wall, 1), "articles_per_second": round(added / wall, 1),
            "cpu_seconds": round(cpu, 1), "cores_used": round(cpu / wall, 2),
            "articles_per_second_per_core": round(added / cpu, 1) if cpu else None,
            "steal_seconds": None if steal is None else round(steal, 1),
        })
        print(f"ingestion: {stats.summary()}")
        print(f"  {figures['articles_per_second']} articles/s wall; {figures['cores_used']} cores used; "
              f"{figures['articles_per_second_per_core']} articles/s per core (CPU time)"
              + (f"; {steal:.0f} s of CPU stolen by the hypervisor meanwhile" if steal is not None else ""))
        figures["stored_articles"] = nt.counts()["articles"]
        model_path = tmp / "models" / "newstilt-bias.joblib"
        if not args.no_model:
            from newstilt.classifier import save, train

            started = time.perf_counter()
            records = list(nt.training_records())
            # without evaluation (an hour on two cores; bench/classifier_bench.py measures it): same cost to score
            save(train(records, progress=False, evaluation=False), model_path)
            figures["model"] = {"trained_on": len(records), "seconds": round(time.perf_counter() - started, 1)}
            print(f"scorer trained from the store on {len(records)} articles in {figures['model']['seconds']} s")
        nt.close()

        app = create_app(make_newstilt(data_dir=tmp, database_url=url, model_path=model_path))
        from waitress import create_server

        server = create_server(app, host="127.0.0.1", port=0, threads=4)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        api = f"http://127.0.0.1:{server.effective_port}"
        latencies, found, leaned = [], 0, 0
        with httpx.Client(timeout=30) as http:
            pages = {a["url"]: http.get(f"{base}/by-url", params={"u": a["url"]}).text for a in gold}
            http.post(f"{api}/api/v1/analyze", json={"url": gold[0]["url"], "html": pages[gold[0]["url"]]})
            for article in gold:
                t0 = time.perf_counter()
                response = http.post(f"{api}/api/v1/analyze", json={"url": article["url"],
                                                                     "html": pages[article["url"]]})
                latencies.append((time.perf_counter() - t0) * 1000)
                body = response.json()
                found += bool(body.get("story"))
                leaned += bool((body.get("lean") or {}).get("label"))
        server.close()
        figures.update({
            "analyze_requests": len(latencies),
            "analyze_p50_ms": round(percentile(latencies, 50), 1),
            "analyze_p95_ms": round(percentile(latencies, 95), 1),
            "analyze_p99_ms": round(percentile(latencies, 99), 1),
            "analyze_with_story": found,
            "analyze_with_lean": leaned,
        })
        print(f"analyze over {len(latencies)} gold pages with {figures['stored_articles']} stored articles: "
              f"p50 {figures['analyze_p50_ms']} ms, p95 {figures['analyze_p95_ms']} ms, "
              f"p99 {figures['analyze_p99_ms']} ms; {found} answered with a story, {leaned} with the article's lean")
    finally:
        newsnet.terminate()
        newsnet.wait(timeout=10)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
