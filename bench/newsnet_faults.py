"""Fetching and extracting through newsnet with its faults on: what each kind of damage turns into.

    python bench/newsnet_faults.py --shared ../shared [--pages 300] [--garbage-rate 0.2] [--fail-rate 0.1]
                                   [--slow-rate 0.05 --slow-seconds 3 --total-timeout 2] [--background]

Starts ``newsnet.py`` on 127.0.0.1 with the gold stories and the faults asked for, reads its OPML and feeds,
then fetches and extracts article pages, and counts the outcomes: a clean article, an article with flaws
(``quality`` not clean), ``TruncatedContentError``, ``DamagedContentError``, another ``ExtractionError``, a
``FetchError``. newsnet's garbage answers (the first third of the page and ``\\x00\\xff<<<&#``, status 200)
are recognised here by their ending, only to check that none of them became an article: the checks in
``newstilt.content`` know nothing about newsnet.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newstilt.errors import (  # noqa: E402
    DamagedContentError,
    ExtractionError,
    FeedError,
    FetchError,
    TruncatedContentError,
)
from newstilt.extract import extract_article  # noqa: E402
from newstilt.feeds import parse_feed, parse_opml  # noqa: E402
from newstilt.fetch import FetchConfig, Fetcher  # noqa: E402

GARBAGE_END = b"\x00\xff<<<&#"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--garbage-rate", type=float, default=0.2)
    parser.add_argument("--fail-rate", type=float, default=0.1)
    parser.add_argument("--slow-rate", type=float, default=0.05)
    parser.add_argument("--slow-seconds", type=float, default=3.0)
    parser.add_argument("--total-timeout", type=float, default=2.0)
    parser.add_argument("--background", action="store_true", help="serve the background articles too")
    args = parser.parse_args()
    files = [args.shared / "data" / "stories-dev.jsonl"]
    if args.background:
        files.append(args.shared / "data" / "articles-dev.jsonl.gz")
    proc = subprocess.Popen(
        [sys.executable, str(args.shared / "tools" / "newsnet.py"), *map(str, files), "--feed-limit", "5",
         "--port", "0", "--seed", "1", "--garbage-rate", str(args.garbage_rate), "--fail-rate",
         str(args.fail_rate), "--slow-rate", str(args.slow_rate), "--slow-seconds", str(args.slow_seconds)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = next(w for w in proc.stdout.readline().split() if w.startswith("http://")).rstrip("/")
    config = FetchConfig(allow_addresses=("127.0.0.1",), per_host_delay=0.0, retries=0,
                         total_timeout=args.total_timeout, per_host_concurrency=4)
    outcomes: Counter[str] = Counter()
    garbage_as_article = 0
    started = time.monotonic()
    try:
        with Fetcher(config) as fetcher:
            for _ in range(20):  # the list of feeds may come back damaged too
                try:
                    feeds = parse_opml(fetcher.fetch(f"{base}/feeds.opml").body)
                    break
                except (FetchError, FeedError):
                    continue
            links: list[tuple[str, str]] = []
            for feed in feeds:
                try:
                    result = fetcher.fetch(feed.xml_url, expect="feed")
                    parsed = parse_feed(result.body, result.final_url, content_type=result.headers.get("content-type"))
                    outcomes["feed read"] += 1
                except (FetchError, FeedError) as exc:
                    outcomes[f"feed: {type(exc).__name__}" + (" (timed out)" if "timed out" in str(exc) else "")] += 1
                    continue
                links.extend((entry.url, feed.outlet or "") for entry in parsed.entries)
            for url, outlet in links[: args.pages]:
                try:
                    page = fetcher.fetch(url, expect="html")
                except FetchError as exc:
                    outcomes["page: " + ("FetchError (timed out)" if "timed out" in str(exc)
                                         else f"{type(exc).__name__}")] += 1
                    continue
                garbage = page.body.endswith(GARBAGE_END)
                try:
                    article = extract_article(page.body, page.final_url, feed_outlet_domain=outlet,
                                              encoding=page.charset)
                except (TruncatedContentError, DamagedContentError) as exc:
                    outcomes[f"page: {type(exc).__name__}" + (" (garbage)" if garbage else "")] += 1
                    continue
                except ExtractionError:
                    outcomes["page: ExtractionError" + (" (garbage)" if garbage else "")] += 1
                    continue
                garbage_as_article += garbage
                outcomes["page: article, " + ("clean" if article.quality.clean else "flawed")] += 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    for outcome, count in sorted(outcomes.items()):
        print(f"{count:>6}  {outcome}")
    print(f"garbage answers that became an article: {garbage_as_article}")
    print(f"{time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
