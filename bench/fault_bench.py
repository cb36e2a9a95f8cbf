"""Ingestion under faults, against newsnet (the local stand-in for the news web) with injected failures.

    python bench/fault_bench.py --shared ../shared [--outlets 30 --per-outlet 100] [--database-url URL]

1. Picks ``--outlets`` outlets of the development articles (the ones with the most articles) and
   ``--per-outlet`` articles of each, and writes them to a temporary JSONL file that two newsnet instances serve:
   a clean one, and one with ``--fail-rate 0.1 --slow-rate 0.05 --garbage-rate 0.1`` (503s, slow answers,
   truncated pages ending in ``\\x00\\xff<<<&#`` with status 200).
2. The clean run: one ingestion pass through the facade into a fresh store; each article's text is the
   reference.
3. The faulty run: up to ``--passes`` (3) passes into another fresh store, with failed pages and feeds retried
   on the next pass (``ingest_retry_base`` 0), while reader threads query the same store (story lists and
   pages) as a running service would. After each pass it prints how many clean articles are stored exactly
   once with a text within 10 % of the clean run's, how many rows hold damaged text (NUL, U+FFFD, newsnet's
   garbage tail, under 70 % of the clean length), and duplicates (a clean article stored under two rows).
4. A further pass must fetch no article page and say "nothing new".
5. Crash safety: ``newstilt ingest`` in a subprocess against the faulty newsnet, killed with SIGKILL mid-pass,
   then run again to the end: nothing committed is lost, nothing is stored twice.
6. The SQLite write-ahead log's largest size during the faulty run (with the concurrent readers).

Targets (issue #11): after at most 3 passes every clean article stored exactly once with text within 10 %,
0 damaged, 0 duplicates; the 4th pass fetches no page and says nothing new; WAL under 64 MB.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newstilt import make_newstilt  # noqa: E402
from newstilt.storage import article_urls, articles  # noqa: E402

FAULTS = ["--fail-rate", "0.1", "--slow-rate", "0.05", "--garbage-rate", "0.1", "--slow-seconds", "3"]
GARBAGE_MARKS = ("\x00", "\ufffd", "<<<&#")


def subset(source: Path, outlets: int, per_outlet: int, out: Path) -> int:
    by_domain: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(source, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            by_domain[record["domain"]].append(record)
    chosen = sorted(by_domain, key=lambda d: (-len(by_domain[d]), d))[:outlets]
    n = 0
    with out.open("w", encoding="utf-8") as f:
        for domain in chosen:
            for record in sorted(by_domain[domain], key=lambda r: str(r["id"]))[:per_outlet]:
                f.write(json.dumps(record) + "\n")
                n += 1
    return n


def start_newsnet(shared: Path, data: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(shared / "tools" / "newsnet.py"), str(data), "--port", "0",
                             "--feed-limit", "100000", "--seed", "7", *extra], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, next(word for word in line.split() if word.startswith("http://")).rstrip("/")


def settings_for(tmp: Path, name: str, database_url: str | None) -> dict:
    url = database_url or f"sqlite:///{tmp / name / 'newstilt.sqlite3'}"
    return {"data_dir": tmp / name, "database_url": url, "fetch_allow": ("127.0.0.1",), "fetch_host_delay": 0.0,
            "fetch_host_concurrency": 16, "ingest_retry_base": 0.0, "ingest": False}


def register(nt, base: str) -> int:
    opml = httpx.get(f"{base}/feeds.opml", timeout=60).content
    path = nt.settings.data_dir / "feeds.opml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(opml)
    return len(nt.import_feeds(path))


def by_path(nt, base: str) -> dict[str, tuple[int, str]]:
    """Each newsnet article (its page path ``/a/<domain>/<id>``, the same in both newsnets) -> the row that holds
    it (id, text); an article found under two rows maps to a list, see :func:`check`."""
    with nt.store.connect() as conn:
        rows = conn.execute(sa.select(article_urls.c.url, articles.c.id, articles.c.text)
                            .join(articles, articles.c.id == article_urls.c.article_id)).all()
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for row in rows:
        if row.url.startswith(base):
            out[row.url[len(base):]][row.id] = row.text
    return out


def damaged(text: str, reference: str | None) -> bool:
    return any(mark in text for mark in GARBAGE_MARKS) or (reference is not None and len(text) < 0.7 * len(reference))


def check(nt, base: str, clean: dict[str, str]) -> dict:
    """Compare a store with the clean run's texts (keyed by newsnet path)."""
    found = by_path(nt, base)
    with nt.store.connect() as conn:
        rows = conn.execute(sa.select(articles.c.id, articles.c.text)).all()
    stored_once = within = duplicates = 0
    references: dict[int, str] = {}
    for path, reference in clean.items():
        holders = found.get(path, {})
        if len(holders) > 1:
            duplicates += len(holders) - 1
        if len(holders) == 1:
            stored_once += 1
            (article_id, text), = holders.items()
            references[article_id] = reference
            within += abs(len(text) - len(reference)) <= 0.10 * len(reference)
    damaged_rows = sum(damaged(row.text, references.get(row.id)) for row in rows)
    return {"rows": len(rows), "clean_articles_stored": stored_once, "text_within_10pct": within,
            "damaged_rows": damaged_rows, "duplicates": duplicates}


class Readers:
    """Threads reading the store as a running service would, while ingestion writes; and one watching the
    SQLite write-ahead log's size (``wal_max``, bytes)."""

    def __init__(self, nt, n: int = 2):
        self.nt, self.stop, self.reads, self.wal_max = nt, threading.Event(), 0, 0
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(n)]
        self.threads.append(threading.Thread(target=self.watch, daemon=True))

    def watch(self):
        url = self.nt.settings.resolved_database_url
        while not self.stop.wait(0.1):
            self.wal_max = max(self.wal_max, wal_size(url))

    def run(self):
        while not self.stop.is_set():
            stories = self.nt.list_stories(limit=20)
            for story in stories[:5]:
                self.nt.story(story["id"])
            self.reads += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def wal_size(database_url: str) -> int:
    if not database_url.startswith("sqlite:///"):
        return 0
    wal = Path(database_url[len("sqlite:///"):] + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def crash_test(tmp: Path, base: str, database_url: str | None, kill_after: float) -> dict:
    """``newstilt ingest`` killed with SIGKILL mid-pass, then run again: nothing lost, nothing twice."""
    settings = settings_for(tmp, "crash", database_url)
    env = {**os.environ, "NEWSTILT_DATA_DIR": str(settings["data_dir"]), "NEWSTILT_DATABASE_URL":
           settings["database_url"], "NEWSTILT_FETCH_ALLOW": "127.0.0.1", "NEWSTILT_FETCH_HOST_DELAY": "0",
           "NEWSTILT_FETCH_HOST_CONCURRENCY": "16", "NEWSTILT_INGEST_RETRY_BASE": "0"}
    with make_newstilt(**settings) as nt:
        register(nt, base)
    command = [sys.executable, "-m", "newstilt", "ingest", "--no-progress"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with make_newstilt(**settings) as nt:
        before = {row.url for row in _rows(nt)}
    for _ in range(3):
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with make_newstilt(**settings) as nt:
        after = {row.url for row in _rows(nt)}
        with nt.store.connect() as conn:  # every address a committed article was known by still leads to it
            known = set(conn.execute(sa.select(article_urls.c.url)).scalars())
        with nt.store.connect() as conn:
            unclustered = conn.execute(sa.select(sa.func.count()).select_from(articles)
                                       .where(articles.c.story_id.is_(None))).scalar()
    lost = [url for url in before if url not in known]
    return {"committed_before_kill": len(before), "lost": len(lost), "rows_after": len(after),
            "unclustered": unclustered}


def _rows(nt):
    with nt.store.connect() as conn:
        return conn.execute(sa.select(articles.c.url, articles.c.text)).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--outlets", type=int, default=30)
    parser.add_argument("--per-outlet", type=int, default=100)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL of an EMPTY database (else SQLite)")
    parser.add_argument("--kill-after", type=float, default=8.0, help="seconds before the crash test's SIGKILL")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="newstilt-fault-"))
    data = tmp / "articles.jsonl"
    n = subset(args.shared / "data" / "articles-dev.jsonl.gz", args.outlets, args.per_outlet, data)
    clean_net, clean_base = start_newsnet(args.shared, data)
    faulty_net, faulty_base = start_newsnet(args.shared, data, *FAULTS)
    figures: dict = {"articles": n, "outlets": args.outlets}
    try:
        print(f"{n} articles of {args.outlets} outlets; clean newsnet {clean_base}, faulty {faulty_base}")
        if args.database_url:
            print("PostgreSQL: give each run an empty database; this bench uses the URL for the faulty run only")
        with make_newstilt(**settings_for(tmp, "clean", None)) as nt:
            register(nt, clean_base)
            started = time.perf_counter()
            stats = nt.ingest_pass(workers=8)
            print(f"clean run: {stats.summary()} ({time.perf_counter() - started:.0f} s)")
            clean = {path: next(iter(holders.values())) for path, holders in by_path(nt, clean_base).items()}
            figures["clean_articles"] = len(clean)
        settings = settings_for(tmp, "faulty", args.database_url)
        with make_newstilt(**settings) as nt:
            register(nt, faulty_base)
            page_fetches = Counter()
            original = nt.fetcher.fetch

            def counted(url, **kwargs):  # measurement only: count the article pages each pass fetches
                if kwargs.get("expect") == "html":
                    page_fetches[current_pass] += 1
                return original(url, **kwargs)

            nt.fetcher.fetch = counted
            with Readers(nt) as readers:
                for current_pass in range(1, args.passes + 2):
                    started = time.perf_counter()
                    stats = nt.ingest_pass(workers=8)
                    result = check(nt, faulty_base, clean)
                    result.update(seconds=round(time.perf_counter() - started, 1), pages_fetched=page_fetches[
                        current_pass], nothing_new=stats.nothing_new)
                    figures[f"pass_{current_pass}"] = result
                    print(f"pass {current_pass}: {stats.summary()}")
                    print(f"  {result['clean_articles_stored']}/{figures['clean_articles']} clean articles stored, "
                          f"{result['text_within_10pct']} with text within 10 %, {result['damaged_rows']} damaged "
                          f"rows, {result['duplicates']} duplicates; {result['pages_fetched']} pages fetched")
            figures["concurrent_reads"] = readers.reads
            figures["wal_max_mb"] = round(readers.wal_max / 2**20, 1)
            print(f"WAL: largest {figures['wal_max_mb']} MB during the faulty run "
                  f"({readers.reads} rounds of concurrent reads)")
        figures["crash"] = crash_test(tmp, faulty_base, None, args.kill_after)
        crash = figures["crash"]
        print(f"kill -9 after {args.kill_after} s: {crash['committed_before_kill']} articles committed before the "
              f"kill, {crash['lost']} lost; {crash['rows_after']} rows after three more passes, "
              f"{crash['unclustered']} without a story")
    finally:
        for proc in (clean_net, faulty_net):
            proc.terminate()
            proc.wait(timeout=10)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
