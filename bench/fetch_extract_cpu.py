"""CPU time per article of the two leaf steps of ingestion: fetching a page and extracting it.

    python bench/fetch_extract_cpu.py [--shared ../shared] [--pages 200] [--rounds 3]

Serves pages from a standard-library HTTP server on 127.0.0.1 in a child process (so its CPU is not counted),
fetches each page with ``Fetcher`` (gzip-encoded, as news sites serve them) and extracts it with
``extract_article``. Prints the CPU milliseconds per page of each step, the best of ``--rounds`` rounds. The
pages are the canned ``tests/resources/ingest/article-cluttered.html`` and, with ``--shared``, pages rendered
the way newsnet serves them (real article text with navigation, ads, comments).
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import multiprocessing
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newstilt.extract import extract_article  # noqa: E402
from newstilt.fetch import FetchConfig, Fetcher  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def load_pages(shared: Path | None, count: int) -> list[bytes]:
    pages = [(ROOT / "tests" / "resources" / "ingest" / "article-cluttered.html").read_bytes()]
    stories = shared / "data" / "stories-dev.jsonl" if shared else None
    if stories and stories.exists():
        spec = importlib.util.spec_from_file_location("newsnet", shared / "tools" / "newsnet.py")
        newsnet = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(newsnet)
        articles = {(a["domain"], str(a["id"])): a for a in map(json.loads, stories.open()) if a.get("text")}
        net = newsnet.NewsNet(articles, "http://127.0.0.1:8800", SimpleNamespace(seed=0, feed_limit=50))
        pages = [net.page(domain, ident).encode() for domain, ident in list(articles)[:count]]
    return (pages * (count // len(pages) + 1))[:count]


def serve(pages: list[bytes], port_queue) -> None:
    bodies = [gzip.compress(page) for page in pages]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            body = bodies[int(self.path.strip("/"))]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pages = load_pages(args.shared, args.pages)
    queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(pages, queue), daemon=True)
    server.start()
    port = queue.get(timeout=30)
    config = FetchConfig(allow_addresses=("127.0.0.1",), per_host_delay=0.0)
    fetch_ms, extract_ms = [], []
    try:
        with Fetcher(config) as fetcher:
            fetcher.fetch(f"http://127.0.0.1:{port}/0", expect="html")  # warm up: connection, imports
            extract_article(pages[0], "https://example.com/0")
            for _ in range(args.rounds):
                cpu = time.process_time()
                results = [fetcher.fetch(f"http://127.0.0.1:{port}/{i}", expect="html") for i in range(len(pages))]
                fetch_ms.append((time.process_time() - cpu) * 1000 / len(pages))
                cpu = time.process_time()
                for i, result in enumerate(results):
                    extract_article(result.body, f"https://example.com/{i}", encoding=result.charset)
                extract_ms.append((time.process_time() - cpu) * 1000 / len(pages))
    finally:
        server.terminate()
    print(f"{len(pages)} pages, mean {sum(map(len, pages)) / len(pages) / 1024:.1f} KiB of HTML")
    print(f"fetch:   {min(fetch_ms):.2f} ms CPU per page (rounds: {', '.join(f'{v:.2f}' for v in fetch_ms)})")
    print(f"extract: {min(extract_ms):.2f} ms CPU per page (rounds: {', '.join(f'{v:.2f}' for v in extract_ms)})")


if __name__ == "__main__":
    main()
