"""Serving (issue #11): ``serve --workers N`` runs N web processes and ingests in exactly one place, survives
half-open connections, restarts a process that dies and stops cleanly; ``newstilt worker`` ingests alone;
the SQLite write-ahead log stays bounded under concurrent readers."""
from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from newstilt.config import Settings
from newstilt.storage import Store, articles

from .conftest import FIXTURE_OUTLETS
from .ingest.conftest import LocalServer, Reply
from .ingest.test_pipeline import feed, page


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _wait(predicate, timeout: float = 30.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


class Serve:
    """``newstilt serve`` (or another command) in a subprocess, stopped with SIGTERM. Its output is read by a
    thread line by line (``communicate`` after a ``readline`` would lose what the pipe's buffer already held)."""

    def __init__(self, tmp_path: Path, *args: str, env: dict | None = None, command: str = "serve"):
        self.env = {**os.environ, "NEWSTILT_DATA_DIR": str(tmp_path), "NEWSTILT_RATINGS_FILE": str(FIXTURE_OUTLETS),
                    **(env or {})}
        extra = ("--port", "0") if command == "serve" else ()
        self.proc = subprocess.Popen([sys.executable, "-m", "newstilt", command, *extra, *args], env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            self.first = self.lines.get(timeout=60) or ""
        except queue.Empty:
            self.first = ""
        self.base = self.first.split()[-1] if self.first.startswith("newstilt serving on") else None

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def stop(self, timeout: float = 30) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for child in _children(self.proc.pid):
                os.kill(child, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=10)
        out = []
        while True:
            line = self.lines.get_nowait() if not self.lines.empty() else None
            if line is None:
                break
            out.append(line)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, "".join(out), err


@pytest.fixture
def news_site():
    """A local site with one feed of two articles; counts how often each path is fetched."""
    server = LocalServer()
    base = server.base
    server.route("/feed.xml", Reply(200, feed(base, [("/a1", "River floods valley town", "Floods."),
                                                     ("/a2", "Levee holds as river crests", "Levee.")]),
                                    {"Content-Type": "application/rss+xml"}))
    for path, title in (("/a1", "River floods valley town"), ("/a2", "Levee holds as river crests")):
        server.route(path, Reply(200, page(title, f"{base}{path}"), {"Content-Type": "text/html; charset=utf-8"}))
    yield server
    server.close()


def _article_count(data_dir: Path) -> int:
    store = Store(f"sqlite:///{data_dir / 'newstilt.sqlite3'}")
    try:
        with store.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(articles)).scalar()
    finally:
        store.close()


def test_workers_serve_from_several_processes_and_ingest_once(tmp_path, news_site):
    from click.testing import CliRunner

    from newstilt.cli import main

    added = CliRunner().invoke(main, ["feeds", "add", news_site.url("/feed.xml"), "--outlet", "nytimes.com",
                                      "--data-dir", str(tmp_path)])
    assert added.exit_code == 0, added.output
    server = Serve(tmp_path, "--workers", "2", "--ingest-interval", "3600",
                   env={"NEWSTILT_FETCH_ALLOW": "127.0.0.1", "NEWSTILT_FETCH_HOST_DELAY": "0"})
    try:
        assert server.base, server.first + server.proc.stderr.read()
        children = _wait(lambda: len(_children(server.proc.pid)) == 3 and _children(server.proc.pid))
        assert len(children) == 3                                  # two web processes and one ingester
        _wait(lambda: _article_count(tmp_path) == 2)
        time.sleep(1.0)                                            # a second ingester would fetch by now
        assert news_site.hits["/feed.xml"] == 1 and news_site.hits["/a1"] == 1
        with httpx.Client(base_url=server.base, timeout=10) as http:
            for _ in range(20):
                assert http.get("/healthz").status_code == 200
            assert http.get("/api/v1/stories").json()["stories"]
    finally:
        code, out, err = server.stop()
    assert code == 0, err
    assert "newstilt stopped" in out and "2 web processes x 8 threads; ingesting feeds every 3600s" in out
    assert all(not Path(f"/proc/{child}").exists() for child in children)


def test_a_web_process_that_dies_is_replaced(tmp_path):
    server = Serve(tmp_path, "--workers", "2", "--no-ingest")
    try:
        assert server.base, server.first + server.proc.stderr.read()
        first = _wait(lambda: len(_children(server.proc.pid)) == 2 and _children(server.proc.pid))
        os.kill(first[0], signal.SIGKILL)
        replaced = _wait(lambda: (kids := _children(server.proc.pid)) and len(kids) == 2 and first[0] not in kids
                         and kids)
        assert first[1] in replaced
        _wait(lambda: httpx.get(server.base + "healthz", timeout=5).status_code == 200)
    finally:
        code, _, err = server.stop()
    assert code == 0 and "starting another" in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_half_open_connections_do_not_starve_the_service(tmp_path, workers):
    """150 clients that connect and send half a request line: /healthz is still answered at once."""
    server = Serve(tmp_path, "--workers", workers, "--no-ingest")
    idle = []
    try:
        assert server.base, server.first + server.proc.stderr.read()
        port = int(server.base.rstrip("/").rsplit(":", 1)[1])
        _wait(lambda: httpx.get(server.base + "healthz", timeout=5).status_code == 200)
        for _ in range(150):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /heal")
            idle.append(sock)
        started = time.monotonic()
        with httpx.Client(base_url=server.base, timeout=5) as http:
            for _ in range(10):
                assert http.get("/healthz").status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for sock in idle:
            sock.close()
        code, _, err = server.stop()
    assert code == 0, err


def test_the_worker_command_ingests_and_stops_on_sigterm(tmp_path, news_site):
    from click.testing import CliRunner

    from newstilt.cli import main

    CliRunner().invoke(main, ["feeds", "add", news_site.url("/feed.xml"), "--outlet", "nytimes.com",
                              "--data-dir", str(tmp_path)])
    worker = Serve(tmp_path, "--ingest-interval", "3600", command="worker",
                   env={"NEWSTILT_FETCH_ALLOW": "127.0.0.1", "NEWSTILT_FETCH_HOST_DELAY": "0"})
    try:
        assert worker.first.startswith("newstilt worker: ingesting feeds every 3600s"), worker.first
        _wait(lambda: _article_count(tmp_path) == 2)
    finally:
        code, out, err = worker.stop()
    assert code == 0 and "newstilt worker stopped" in out, err
    assert news_site.hits["/feed.xml"] == 1


# -- the SQLite write-ahead log ----------------------------------------------------------------------------------

def _write_under_readers(store: Store, *, checkpoint: bool, megabytes: int = 24) -> int:
    """Write ``megabytes`` in batches while four threads read without pause; the largest log seen."""
    stop = threading.Event()

    def read():
        while not stop.is_set():
            with store.connect() as conn:
                conn.execute(sa.select(sa.func.max(articles.c.id))).scalar()
                time.sleep(0.002)                                  # a read transaction that lasts a moment

    readers = [threading.Thread(target=read, daemon=True) for _ in range(4)]
    for thread in readers:
        thread.start()
    largest, text, n = 0, "x" * 20_000, 0
    try:
        for _batch in range(megabytes * 1024 * 1024 // (25 * len(text))):
            with store.begin() as conn:
                for _ in range(25):
                    n += 1
                    store.add_article(conn, url=f"https://www.example.com/{n}", title="t", text=text, origin="feed")
            if checkpoint:
                store.checkpoint_if_over(4 * 1024 * 1024)
            largest = max(largest, store.wal_size())
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    return largest


def test_the_write_ahead_log_stays_bounded_when_the_writer_checkpoints(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'newstilt.sqlite3'}")
    store.ensure_schema()
    try:
        largest = _write_under_readers(store, checkpoint=True)
        assert largest < 8 * 1024 * 1024, largest
        store.checkpoint()
        assert store.wal_size() == 0
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == 16 * 1024 * 1024
    finally:
        store.close()


def test_the_scorer_answers_once_for_the_same_text(tmp_path):
    """analyze of a stored article scores the same text on every visit: the answer is cached per process."""
    from newstilt.core import Newstilt

    calls = []

    class Model:
        def score(self, title, text):
            calls.append((title, text))
            return {"label": "center", "explanation": [{"term": text[:5]}]}

    nt = Newstilt(Settings.from_env({}, data_dir=tmp_path))
    nt.__dict__["_model"] = (Model(), None)
    first, again = nt.score("T", "some text"), nt.score("T", "some text")
    assert first == again and first is not again and len(calls) == 1
    nt.score("T", "other text")
    nt.score("T\ud800", "lone surrogates are hashable too")
    assert len(calls) == 3


def test_a_cached_story_is_rebuilt_when_an_article_joins_or_the_ratings_change(tmp_path):
    from datetime import UTC, datetime

    from newstilt.core import Newstilt

    from .conftest import RESOURCES
    from .test_stories_api import EVENT

    nt = Newstilt(Settings.from_env({}, data_dir=tmp_path, ratings_file=FIXTURE_OUTLETS))

    def add(outlet, url, title, text):
        with nt.store.begin() as conn:
            article_id = nt.store.add_article(conn, url=url, title=title, text=text, origin="import", outlet=outlet,
                                              published=datetime(2024, 3, 12, 9, tzinfo=UTC))
            nt.clusterer.add(conn, article_id)
            return conn.exec_driver_sql("SELECT story_id FROM articles WHERE id = ?", (article_id,)).scalar()

    try:
        story_id = add(*EVENT[0])
        add(*EVENT[1])
        first = nt.story(story_id)
        assert first["article_count"] == 2 and nt.story(story_id) == first
        with nt.store.connect() as conn:
            without = nt.story_payload(conn, story_id, exclude_url=EVENT[0][1])
        assert sum(map(len, without["articles"].values())) == 1 and without["article_count"] == 2
        assert sum(map(len, nt.story(story_id)["articles"].values())) == 2      # the cached one is unchanged
        assert add(*EVENT[2]) == story_id
        assert nt.story(story_id)["article_count"] == 3
        entries = len(nt._stories)
        nt.import_ratings(RESOURCES / "ratings" / "allsides-fixture.csv", "allsides")
        nt.story(story_id)
        assert len(nt._stories) == entries + 1                                   # new ratings: built again
    finally:
        nt.close()


def test_waitress_queue_warnings_are_silenced(tmp_path):
    """A request queue under load is normal: waitress logged 'Task queue depth' 28,000 times a run."""
    import logging

    from newstilt.serving import make_server
    from newstilt.web import create_app

    settings = Settings.from_env({}, data_dir=tmp_path, port=0)
    app = create_app(settings)
    server = make_server(app, settings)
    try:
        assert logging.getLogger("waitress.queue").getEffectiveLevel() >= logging.ERROR
        assert server.adj.connection_limit == settings.connection_limit and server.adj.channel_timeout == 60
    finally:
        server.close()
        app.extensions["newstilt"].close()


@pytest.mark.postgres
def test_a_postgres_connection_the_server_closed_is_replaced_without_an_error(postgres_url):
    """No round trip per checkout (pool_pre_ping cost ~0.5 ms a request): a pooled connection the server
    closed is noticed on its socket and replaced."""
    import psycopg

    store = Store(postgres_url)
    store.ensure_schema()
    try:
        with store.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        time.sleep(0.3)
        with store.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        store.close()
