"""Serving throughput: newstilt beside a hello-world Flask app served the same way, on SQLite and PostgreSQL,
and the SQLite write-ahead log under an ingest-like write load with concurrent readers.

    python bench/load_bench.py --data ../shared/data/articles-dev.jsonl.gz [--postgres URL] [--workers 2]
                               [--seconds 5] [--rounds 3] [--connections 16] [--no-model] [--json out.json]

1. Fills a store from ``--data`` once per backend with ``newstilt import`` (cached under ``--cache``,
   /tmp/newstilt-bench) and trains the article scorer from it once (unless ``--no-model``), so analyze
   answers as an installed service does.
2. Serves a hello-world Flask app (``GET /`` -> "Hello, World!") with the same supervisor, waitress settings,
   processes and threads as ``newstilt serve --workers N --no-ingest``, then newstilt itself on each backend.
3. Loads each with wrk (Debian's ``wrk``; 127.0.0.1 only, ``--connections`` at once, every core busy), hello
   and newstilt both up all along, in alternating runs of ``--seconds``: hello, then each scenario followed
   by hello again, ``--rounds`` times, after a warm-up run of each that is not counted. Scenarios: lookup of
   stored article URLs; analyze of a stored URL (100 stored URLs in turn, as the extension sends them, after
   a warm-up that sends each four times, whose first round is printed as the cold latency); analyze of a new
   100 KB page. Each scenario run is compared with the mean of the hello runs on either side of it: on a
   shared machine req/s swing by 2x or more from one minute to the next, and a server's first seconds under
   load are its slowest. Prints the median req/s and p50, the worst p99, all errors (non-2xx and socket
   errors; must be 0), the servers' CPU time per request (from /proc), and the median of the rounds' ratios
   to hello by req/s (with their range) and by CPU per request. Targets: lookup >= 0.7x hello, analyze of a
   stored URL >= 0.3x hello.
4. WAL check: a fresh SQLite store served by ``newstilt serve --workers N`` under analyze load while this
   process stores and clusters articles in transactions of 25, as ingestion does, checkpointing as the
   ingester does (after each feed's worth, once the log passes 16 MB) and, for comparison, not at all.
   Prints the largest write-ahead log seen (target < 64 MB).

Run it with ``nice`` on a shared machine: it uses every core for a minute or two.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newstilt.config import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NEWSTILT = [sys.executable, "-m", "newstilt"]


# -- the stores --------------------------------------------------------------------------------------------------

def ensure_store(cache: Path, backend: str, data: Path, database_url: str | None,
                 copy_of: dict | None = None) -> dict:
    """The data dir and database URL of a store filled from ``data`` once (then reused): imported with
    ``newstilt import``, or for PostgreSQL copied table by table from the SQLite store ``copy_of`` (the same
    articles and stories on both backends, in minutes rather than the hour clustering again takes there)."""
    data_dir = cache / backend
    data_dir.mkdir(parents=True, exist_ok=True)
    marker = cache / f"{backend}.ok"
    url = database_url or f"sqlite:///{data_dir / 'newstilt.sqlite3'}"
    if not marker.exists() or marker.read_text().strip() not in ("", url):
        if backend == "postgres":
            create_database(url)
        if copy_of is not None:
            print(f"copying the SQLite store into {backend} (once)", flush=True)
            copy_store(copy_of["database_url"], url)
        else:
            print(f"importing {data.name} into {backend} (once; cached in {data_dir})", flush=True)
            subprocess.run(["nice", "-n", "10", *NEWSTILT, "import", str(data), "--no-progress", "--data-dir",
                            str(data_dir), "--database-url", url], check=True)
        marker.write_text(url)
    return {"data_dir": data_dir, "database_url": url}


def copy_store(source_url: str, target_url: str) -> None:
    """Every table of a SQLite store into a PostgreSQL database (emptied first) with COPY; sequences reset."""
    from datetime import UTC, datetime

    import psycopg
    import sqlalchemy as sa

    from newstilt.storage import Store, metadata

    source, target = Store(source_url), Store(target_url)
    target.ensure_schema()
    dsn = target.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn) as pg:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            pg.execute(f"TRUNCATE {names} CASCADE")
            for table in metadata.sorted_tables:
                columns = [c.name for c in table.columns]
                quoted = ", ".join(f'"{c}"' for c in columns)
                with source.engine.connect() as conn, pg.cursor().copy(
                        f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                    for row in conn.execute(sa.select(table)).yield_per(20_000):
                        copy.write_row([v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None
                                        else v for v in row])
                if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                    pg.execute(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                               f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 0) + 1, false)")
            pg.execute("ANALYZE")
    finally:
        source.close()
        target.close()


def create_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def ensure_model(cache: Path, store: dict) -> Path:
    path = cache / "model" / "newstilt-bias.joblib"
    if not path.exists():
        print("training the scorer from the store (once)", flush=True)
        # --no-evaluate: serving costs the same with or without the measured threshold, and the evaluation
        # takes an hour on two cores
        subprocess.run(["nice", "-n", "10", *NEWSTILT, "train", "--from-store", "--quiet", "--no-evaluate",
                        "--out", str(path),
                        "--data-dir", str(store["data_dir"]), "--database-url", store["database_url"]], check=True)
    return path


def sample_articles(store: dict, count: int = 100) -> list[dict]:
    """Stored articles of rated outlets whose story has three to thirty articles, spread over the store."""
    from newstilt.errors import NewstiltError
    from newstilt.ratings import Ratings
    from newstilt.storage import Store

    s = Store(store["database_url"])
    try:
        index = Ratings(s).index()
        with s.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT a.url, a.title, a.text FROM articles a JOIN (SELECT story_id FROM articles "
                "WHERE story_id IS NOT NULL GROUP BY story_id HAVING COUNT(*) BETWEEN 3 AND 30) s "
                "ON a.story_id = s.story_id WHERE a.outlet IS NOT NULL ORDER BY a.id").all()
    finally:
        s.close()
    rated = []
    for url, title, text in rows:
        try:
            index.match(url)
        except NewstiltError:
            continue
        rated.append({"url": url, "title": title, "text": text})
    step = max(1, len(rated) // count)
    return rated[::step][:count]


def warm_up(base: str, samples: list[dict], rounds: int = 4) -> dict:
    """Every stored URL analysed ``rounds`` times, each on a new connection (so every web process sees it):
    the first round's latencies are what a visit to an article nobody read since the start costs."""
    cold = []
    for round_ in range(rounds):
        for item in samples:
            started = time.perf_counter()
            httpx.post(base + "/api/v1/analyze", json={"url": item["url"]}, timeout=60).raise_for_status()
            if round_ == 0:
                cold.append((time.perf_counter() - started) * 1000)
    cold.sort()
    return {"requests": len(cold), "p50_ms": cold[len(cold) // 2], "p99_ms": cold[int(len(cold) * 0.99)]}


def new_page(article: dict, size: int = 100_000) -> str:
    """A 100 KB page around a stored article's text, as a real article page is: head, navigation, inline
    CSS and script, the article, related links, footer."""
    paragraphs = "".join(f"<p>{p}</p>" for p in re.split(r"(?<=\.) ", article["text"]) if p)
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(60))
    related = "".join(f'<li><a href="/2024/related-{i}.html">Related headline number {i} about the news</a>'
                      "</li>" for i in range(80))
    head = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{article['title']}</title>"
            "<meta property='article:published_time' content='2016-09-20T10:00:00Z'>"
            "<style>" + "body{margin:0;font:16px serif}.nav li{display:inline}" * 40 + "</style></head>")
    body = (f"<body><nav class='nav'><ul>{nav}</ul></nav><article><h1>{article['title']}</h1>{paragraphs}"
            f"</article><aside><ul>{related}</ul></aside>")
    filler = "<script>window.dataLayer=window.dataLayer||[];" + "dataLayer.push({event:'pageview'});" * 20 + \
             "</script>"
    page = head + body
    while len(page) + len("</body></html>") < size:
        page += filler
    return page[: size - len("</body></html>")] + "</body></html>" if len(page) > size else page + "</body></html>"


# -- the servers -------------------------------------------------------------------------------------------------

def hello_web(settings: Settings, sock: socket.socket) -> int:
    """What each web process of the hello server runs: the same waitress, on the same kind of socket."""
    import signal

    from flask import Flask

    from newstilt.serving import make_server

    app = Flask("hello")

    @app.get("/")
    def hello():
        return "Hello, World!"

    def leave(_signum, _frame):
        raise SystemExit(0)

    server = make_server(app, settings, sockets=[sock])
    signal.signal(signal.SIGTERM, leave)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


def serve_hello(workers: int, threads: int) -> int:
    from newstilt.serving import Supervisor, bind

    settings = Settings.from_env({}, port=0, workers=workers, threads=threads, ingest=False)
    sock = bind(settings)
    print(f"hello serving on http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)
    return Supervisor(settings, sock, web=hello_web).run()


class Server:
    """A server in a subprocess (``newstilt serve`` or this file's hello mode), stopped with SIGTERM."""

    def __init__(self, argv: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        line = self.proc.stdout.readline()
        if " serving on " not in line:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line}{self.proc.stderr.read()}")
        self.base = line.split()[-1].rstrip("/")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # keep the pipes drained
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not answer")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def newstilt_server(store: dict, workers: int, threads: int, model: Path | None, data_dir: Path | None = None):
    argv = [*NEWSTILT, "serve", "--port", "0", "--workers", str(workers), "--threads", str(threads),
            "--no-ingest", "--data-dir", str(data_dir or store["data_dir"]), "--database-url", store["database_url"]]
    if model:
        argv += ["--model-path", str(model)]
    return Server(argv)


# -- the load ----------------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def lua_requests(method: str, path: str, bodies: list[str] | None = None, paths: list[str] | None = None) -> str:
    """A wrk script sending ``bodies`` (or ``paths``) in turn."""
    def quote(text: str) -> str:
        level = "=" * 8
        return f"[{level}[{text}]{level}]"

    items = bodies if bodies is not None else paths
    table = ",\n".join(quote(item) for item in items)
    if bodies is not None:
        call = f'wrk.format("{method}", "{path}", {{["Content-Type"]="application/json"}}, items[i])'
    else:
        call = f'wrk.format("{method}", items[i])'
    return f"local items = {{\n{table}\n}}\nlocal i = 0\nrequest = function()\n  i = i % #items + 1\n" \
           f"  return {call}\nend\n"


def _processes(pid: int) -> list[int]:
    """A server's process and its children (Linux /proc)."""
    return [pid, *(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a server: its process and its children."""
    def one(p: int) -> float:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return sum(one(p) for p in _processes(pid))


def memory(pid: int) -> dict:
    """Memory of a server: its process then its children, each with RSS, PSS (a page shared by k processes
    counts 1/k in each, so the PSS add up to what the server costs) and private pages (Linux smaps_rollup)."""
    def one(p: int) -> dict:
        fields = {}
        for row in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = row.split(":", 1)
            fields[name] = int(value.split()[0]) / 1024  # kB -> MB
        return {"pid": p, "rss_mb": round(fields["Rss"], 1), "pss_mb": round(fields["Pss"], 1),
                "private_mb": round(fields["Private_Clean"] + fields["Private_Dirty"], 1)}

    processes = [one(p) for p in _processes(pid)]
    return {"processes": processes, "pss_mb": round(sum(p["pss_mb"] for p in processes), 1),
            "rss_mb": round(sum(p["rss_mb"] for p in processes), 1)}


def run_wrk(base: str, seconds: int, connections: int, script: str | None = None, path: str = "/",
            pid: int | None = None) -> dict:
    """One wrk run: requests, req/s, p50/p99 (ms), errors, and the server's CPU time per request (ms): on a
    shared machine req/s follow the share of the cores the server gets, CPU per request much less so."""
    argv = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        if script:
            f.write(script)
    try:
        if script:
            argv += ["-s", f.name]
        cpu_before = server_cpu(pid) if pid else 0.0
        out = subprocess.run([*argv, base + path], capture_output=True, text=True, check=True,
                             timeout=seconds + 60).stdout
        cpu_used = server_cpu(pid) - cpu_before if pid else 0.0
    finally:
        os.unlink(f.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return {"requests": total, "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors,
            "cpu_ms_per_request": round(1000 * cpu_used / max(total, 1), 3)}


def check_answers(base: str, samples: list[dict], page: str) -> None:
    """Every request the load sends is answered 200 (wrk only counts statuses)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        for item in samples[:5]:
            http.get("/api/v1/sources/lookup", params={"url": item["url"]}).raise_for_status()
            http.post("/api/v1/analyze", json={"url": item["url"]}).raise_for_status()
        http.post("/api/v1/analyze", json={"url": "https://www.nytimes.com/bench/new-page.html",
                                           "html": page}).raise_for_status()


def scenarios(samples: list[dict], page: str) -> dict[str, str]:
    from urllib.parse import quote

    lookups = [f"/api/v1/sources/lookup?url={quote(s['url'], safe='')}" for s in samples]
    stored = [json.dumps({"url": s["url"]}) for s in samples]
    new = [json.dumps({"url": "https://www.nytimes.com/bench/new-page.html", "html": page})]
    return {"lookup": lua_requests("GET", "", paths=lookups),
            "analyze stored URL": lua_requests("POST", "/api/v1/analyze", bodies=stored),
            "analyze new 100 KB page": lua_requests("POST", "/api/v1/analyze", bodies=new)}


def line(name: str, result: dict) -> str:
    return (f"  {name:<24} {result['rps']:>6.0f} req/s  p50 {result['p50_ms']:>6.1f} ms  "
            f"p99 {result['p99_ms']:>6.1f} ms  errors {result['errors']}  "
            f"CPU {result['cpu_ms_per_request']:.2f} ms/req")


# -- the write-ahead log ---------------------------------------------------------------------------------------

def wal_check(data: Path, workers: int, threads: int, connections: int, articles: int) -> dict:
    """Largest WAL under an ingest-like write load with readers, with and without the ingester's checkpoints."""
    records = []
    with gzip.open(data, "rt", encoding="utf-8") as lines:
        for raw in lines:
            item = json.loads(raw)
            if item.get("url") and item.get("text"):
                records.append(item)
            if len(records) >= 600 + articles:
                break
    out = {}
    for checkpoints in (False, True):
        key = "with checkpoints" if checkpoints else "without checkpoints"
        out[key] = _wal_run(records[:600], records[600:], checkpoints, workers, threads, connections)
        r = out[key]
        print(f"  {key:<22} {r['articles']} articles stored in {r['seconds']:.0f}s under analyze load: largest "
              f"WAL {r['max_wal_mb']:.1f} MB, {r['final_wal_mb']:.1f} MB at the end", flush=True)
    return out


def _wal_run(seed: list[dict], load: list[dict], checkpoints: bool, workers: int, threads: int,
             connections: int) -> dict:
    from newstilt.articles import NewArticle, add_article
    from newstilt.bulk import parse_published
    from newstilt.core import Newstilt
    from newstilt.urls import normalize_url

    with tempfile.TemporaryDirectory(prefix="newstilt-wal-") as tmp:
        settings = Settings.from_env({}, data_dir=Path(tmp))
        nt = Newstilt(settings)

        def store(batch):
            with nt.store.begin() as conn:
                nt.clusterer.lock(conn)
                for item in batch:
                    add_article(nt.store, conn, NewArticle(
                        url=normalize_url(item["url"]), title=item.get("title") or item["url"], text=item["text"],
                        origin="feed", outlet=item.get("domain"), published=parse_published(item.get("published"))),
                        clusterer=nt.clusterer)

        for i in range(0, len(seed), 100):
            store(seed[i:i + 100])
        nt.store.checkpoint()
        server = newstilt_server({"database_url": settings.resolved_database_url, "data_dir": Path(tmp)},
                                 workers, threads, None)
        largest, stop = 0, threading.Event()

        def watch():
            nonlocal largest
            while not stop.is_set():
                largest = max(largest, nt.store.wal_size())
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        bodies = [json.dumps({"url": normalize_url(item["url"])}) for item in seed[::6]]
        script = _write_script(lua_requests("POST", "/api/v1/analyze", bodies=bodies))
        wrk = subprocess.Popen(["wrk", "-t", "1", "-c", str(connections), "-d", "600s", "-s", script,
                                server.base + "/"], stdout=subprocess.DEVNULL)
        started = time.monotonic()
        try:
            for i in range(0, len(load), 25):
                store(load[i:i + 25])
                if checkpoints and (i // 25) % 4 == 3:  # after each feed's worth, as ingest_pass does
                    nt.store.checkpoint_if_over()
            if checkpoints:
                nt.store.checkpoint()
        finally:
            elapsed = time.monotonic() - started
            wrk.terminate()
            wrk.wait()
            os.unlink(script)
            stop.set()
            watcher.join()
            server.stop()
            final = nt.store.wal_size()
            nt.close()
        return {"articles": len(load), "seconds": round(elapsed, 1), "max_wal_mb": round(largest / 2**20, 1),
                "final_wal_mb": round(final / 2**20, 1)}


def _write_script(text: str) -> str:
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(text)
    f.close()
    return f.name


# -- main --------------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="JSONL(.gz) of articles to fill the stores with")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/newstilt_bench",
                        help="PostgreSQL database for the second run ('' to skip); created if missing")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "newstilt-bench")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=5, help="per run of a scenario or of hello")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each scenario, each beside hello")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-model", action="store_true", help="analyze without the article scorer")
    parser.add_argument("--wal-articles", type=int, default=2500, help="articles written in the WAL check")
    parser.add_argument("--skip-wal", action="store_true")
    parser.add_argument("--skip-load", action="store_true", help="only the write-ahead log check")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--serve-hello", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_hello:
        return serve_hello(args.workers, args.threads)
    if not args.data:
        parser.error("--data is required")
    if not shutil.which("wrk"):
        parser.error("wrk is needed (Debian: apt-get install wrk)")

    results: dict = {"workers": args.workers, "threads": args.threads, "connections": args.connections,
                     "seconds": args.seconds, "rounds": args.rounds, "cores": os.cpu_count()}
    if not args.skip_load:
        load(args, results)
    if not args.skip_wal:
        print("write-ahead log (SQLite):", flush=True)
        results["wal"] = wal_check(args.data, args.workers, args.threads, 8, args.wal_articles)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def load(args, results: dict) -> None:
    stores = {"sqlite": ensure_store(args.cache, "sqlite", args.data, None)}
    if args.postgres:
        stores["postgresql"] = ensure_store(args.cache, "postgres", args.data, args.postgres,
                                            copy_of=stores["sqlite"])
    model = None if args.no_model else ensure_model(args.cache, stores["sqlite"])
    samples = sample_articles(stores["sqlite"])
    page = new_page(samples[0])
    results["model"] = bool(model)
    print(f"{args.workers} processes x {args.threads} threads, wrk -c{args.connections}, {args.rounds} rounds of "
          f"{args.seconds}s a scenario, each beside a round of hello; {os.cpu_count()} cores, scorer "
          f"{'on' if model else 'off'}", flush=True)

    for backend, store in stores.items():
        hello_server = Server([sys.executable, __file__, "--serve-hello", "--workers", str(args.workers),
                               "--threads", str(args.threads)])
        server = None
        try:
            server = newstilt_server(store, args.workers, args.threads, model)
            check_answers(server.base, samples, page)
            cold = warm_up(server.base, samples)
            print(f"{backend}: (first analyze of each of {cold['requests']} stored URLs, one at a time: "
                  f"p50 {cold['p50_ms']:.1f} ms, p99 {cold['p99_ms']:.1f} ms; then warm)", flush=True)
            results[backend] = {"cold analyze": cold, **compare(hello_server, server, scenarios(samples, page),
                                                                args)}
            results[backend]["memory"] = used = memory(server.proc.pid)
            web = used["processes"][1:]
            rss = ", ".join(f"{w['rss_mb']:.0f}" for w in web)
            private = ", ".join(f"{w['private_mb']:.0f}" for w in web)
            print(f"{backend}: memory after the load: {len(used['processes'])} processes, PSS {used['pss_mb']:.0f} MB "
                  f"in all (RSS summed {used['rss_mb']:.0f} MB); supervisor RSS "
                  f"{used['processes'][0]['rss_mb']:.0f} MB; web processes RSS {rss} MB, of it private {private} MB",
                  flush=True)
        finally:
            hello_server.stop()
            if server is not None:
                server.stop()


def compare(hello_server: Server, server: Server, named: dict[str, str], args) -> dict:
    """Each scenario against hello in alternating rounds (hello, scenario, hello, scenario, ...), both servers
    up all along: on a shared machine the speed of the moment swings req/s by 2x or more between minutes
    (and a server's first seconds under load are its slowest), so each round's scenario is compared with the
    hello runs on either side of it, and the median of the rounds' ratios is reported."""
    def hello() -> dict:
        return run_wrk(hello_server.base, args.seconds, args.connections, pid=hello_server.proc.pid)

    hello()  # warm both up under load first; not counted
    run_wrk(server.base, args.seconds, args.connections, next(iter(named.values())), pid=server.proc.pid)
    hellos, runs = [hello()], {name: [] for name in named}
    for _ in range(args.rounds):
        for name, script in named.items():
            runs[name].append(run_wrk(server.base, args.seconds, args.connections, script, pid=server.proc.pid))
            hellos.append(hello())
    out = {"hello": _summary(hellos)}
    print(line("hello world (Flask)", out["hello"]), flush=True)
    for i, (name, rounds) in enumerate(runs.items()):
        ratios, cpu_ratios = [], []
        for r, result in enumerate(rounds):
            # the hello runs just before and just after this one (every scenario sits between two of them)
            before, after = hellos[r * len(named) + i], hellos[r * len(named) + i + 1]
            ratios.append(result["rps"] / ((before["rps"] + after["rps"]) / 2))
            cpu_ratios.append((before["cpu_ms_per_request"] + after["cpu_ms_per_request"]) / 2
                              / result["cpu_ms_per_request"])
        out[name] = {**_summary(rounds), "ratio_to_hello": round(_median(ratios), 3),
                     "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
                     "cpu_ratio_to_hello": round(_median(cpu_ratios), 3), "rounds": rounds}
        print(line(name, out[name]) + f"  {out[name]['ratio_to_hello']:.2f}x hello (rounds "
              f"{min(ratios):.2f}-{max(ratios):.2f}; {out[name]['cpu_ratio_to_hello']:.2f}x by CPU)", flush=True)
    return out


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _summary(runs: list[dict]) -> dict:
    """Several wrk runs of one scenario: median req/s, p50 and CPU per request, the worst p99, all errors."""
    return {"requests": sum(r["requests"] for r in runs), "rps": _median([r["rps"] for r in runs]),
            "p50_ms": _median([r["p50_ms"] for r in runs]), "p99_ms": max(r["p99_ms"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
            "cpu_ms_per_request": round(_median([r["cpu_ms_per_request"] for r in runs]), 3)}


if __name__ == "__main__":
    sys.exit(main())
