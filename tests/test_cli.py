"""The newstilt command: settings precedence, ratings commands, and a real ``serve`` on waitress."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from newstilt.cli import main
from newstilt.config import DEFAULT_PORT, Settings

from .conftest import RESOURCES
from .ingest.conftest import LocalServer, Reply


def test_settings_precedence(tmp_path):
    env = {"NEWSTILT_PORT": "9000", "NEWSTILT_DATA_DIR": str(tmp_path), "NEWSTILT_INGEST": "off"}
    settings = Settings.from_env(env)
    assert (settings.port, settings.data_dir, settings.ingest) == (9000, tmp_path, False)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'newstilt.sqlite3'}"
    assert Settings.from_env(env, port=9100).port == 9100          # a flag beats the environment
    assert Settings.from_env({}).port == DEFAULT_PORT              # the default
    with pytest.raises(ValueError, match="NEWSTILT_PORT"):
        Settings.from_env({"NEWSTILT_PORT": "eighty"})


def _run(*args, env=None):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_ratings_import_list_and_lookup(tmp_path):
    env = {"NEWSTILT_DATA_DIR": str(tmp_path)}
    mbfc = str(RESOURCES / "ratings" / "mbfc-fixture.json")
    first = _run("ratings", "import", mbfc, "--format", "mbfc", env=env)
    assert first.exit_code == 0, first.output
    assert "mbfc: 6 added, 0 changed, 0 unchanged, 0 removed" in first.output
    again = _run("ratings", "import", mbfc, "--format", "mbfc", env=env)
    assert "nothing changed" in again.output
    assert (tmp_path / "newstilt.sqlite3").exists()           # the environment chose the data dir
    listed = _run("ratings", "list", env=env)
    assert "mbfc (Media Bias/Fact Check): 6 outlets" in listed.output
    looked = _run("ratings", "lookup", "https://www.politi.co/x", env=env)
    assert looked.exit_code == 0 and "Politico (politico.com" in looked.output


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = _run("ratings", "import", str(bad), "--format", "mbfc", "--data-dir", str(tmp_path))
    assert result.exit_code == 1 and "error: not valid JSON" in result.output
    result = _run("ratings", "lookup", "ftp://x", "--data-dir", str(tmp_path))
    assert result.exit_code == 1 and "error: only http and https" in result.output
    result = _run("ratings", "lookup", "https://example.org/", "--data-dir", str(tmp_path))
    assert result.exit_code == 1 and "no rating for example.org" in result.output


def test_serve_runs_waitress_and_stops_on_sigterm(tmp_path):
    env = {**os.environ, "NEWSTILT_DATA_DIR": str(tmp_path / "data"), "NEWSTILT_INGEST": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "newstilt", "serve", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("newstilt serving on http://127.0.0.1:"), first + proc.stderr.read()
        base = first.split()[-1]
        with httpx.Client(base_url=base, timeout=10) as http:
            health = http.get("/healthz")
            assert health.status_code == 200 and health.json()["outlets"] >= 600
            assert health.headers["server"] == "newstilt"          # waitress, not the development server
            assert http.get("/api/v1/sources/lookup", params={"url": "https://www.nytimes.com/x"}).status_code == 200
        assert Path(tmp_path / "data" / "newstilt.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_serve_stops_promptly_with_an_idle_keep_alive_connection(tmp_path):
    import socket
    import time

    env = {**os.environ, "NEWSTILT_DATA_DIR": str(tmp_path), "NEWSTILT_INGEST": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "newstilt", "serve", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1].strip("/\n"))
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert b"200 OK" in idle.recv(65536)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
        assert time.monotonic() - started < 10 and proc.returncode == 0
        idle.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_feeds_commands(tmp_path):
    env = {"NEWSTILT_DATA_DIR": str(tmp_path)}
    added = _run("feeds", "add", "https://feeds.bbci.co.uk/news/rss.xml?utm_source=x", "--outlet", "bbc.co.uk",
                 env=env)
    assert added.exit_code == 0
    assert "added feed 1: https://feeds.bbci.co.uk/news/rss.xml (outlet bbc.com)" in added.output
    guessed = _run("feeds", "add", "https://www.foxnews.com/about/rss/feed.xml", env=env)
    assert "(outlet foxnews.com)" in guessed.output
    assert "updated feed 1" in _run("feeds", "add", "https://feeds.bbci.co.uk/news/rss.xml", "--outlet", "bbc.com",
                                    env=env).output
    assert _run("feeds", "disable", "1", env=env).output.strip() == "disabled 1"
    listed = _run("feeds", "list", env=env).output
    assert "    1 off bbc.com" in listed and "    2 on  foxnews.com" in listed and "2 feeds" in listed
    assert _run("feeds", "enable", "1", env=env).exit_code == 0
    assert _run("feeds", "remove", "https://www.foxnews.com/about/rss/feed.xml", env=env).exit_code == 0
    missing = _run("feeds", "remove", "99", env=env)
    assert missing.exit_code == 1 and "no feed 99" in missing.output
    assert "error: only http and https" in _run("feeds", "add", "ftp://x.com/feed", env=env).output


def _bundled_feeds() -> bytes:
    from importlib import resources

    return resources.files("newstilt").joinpath("data/default-feeds.opml").read_bytes()


def test_feeds_import_the_bundled_default_list(tmp_path):
    path = tmp_path / "default.opml"
    path.write_bytes(_bundled_feeds())
    result = _run("feeds", "import", str(path), "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    count = int(result.output.split()[0])
    assert count >= 100 and "not rated" not in result.output      # every default feed is tied to a rated outlet


MY_OPML = b"""<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
<outline type="rss" text="Ledger" xmlUrl="https://www.ledger.example/rss.xml" htmlUrl="https://www.ledger.example/"/>
<outline type="rss" text="BBC" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml" htmlUrl="https://www.bbc.com/"/>
</body></opml>"""


def test_an_opml_imported_after_the_defaults_is_used_instead_of_them(tmp_path):
    """0.1.0 wrote the default feeds into the database on the first serve, and a later OPML was added to them."""
    from newstilt import make_newstilt

    with make_newstilt(data_dir=tmp_path) as nt:
        added = nt.ensure_default_feeds()          # what the first serve or ingest does
        assert added >= 100 and len(nt.list_feeds(enabled_only=True)) == added
    (tmp_path / "mine.opml").write_bytes(MY_OPML)
    result = _run("feeds", "import", str(tmp_path / "mine.opml"), "--data-dir", str(tmp_path))
    assert result.exit_code == 0 and "2 feeds: 2 added" in result.output, result.output
    listed = _run("feeds", "list", "--data-dir", str(tmp_path)).output
    assert "2 feeds" in listed and "default list" not in listed
    with make_newstilt(data_dir=tmp_path) as nt:
        assert nt.ensure_default_feeds() == 0      # the user's feeds are configured: no defaults come back
        assert sorted(f["url"] for f in nt.list_feeds(enabled_only=True)) == [
            "https://feeds.bbci.co.uk/news/rss.xml", "https://www.ledger.example/rss.xml"]


def test_a_010_database_with_defaults_and_user_feeds_ingests_only_the_users(tmp_path):
    """A 0.1.0 store may hold the defaults beside feeds the user added: an ingestion pass reads the user's."""
    from newstilt.storage import Store

    store = Store(f"sqlite:///{tmp_path / 'newstilt.sqlite3'}")
    store.add_feed("https://feeds.bbci.co.uk/news/rss.xml", "bbc.com", origin="default")
    store.add_feed("http://rss.cnn.com/rss/cnn_topstories.rss", "cnn.com", origin="default")
    with store.begin() as conn:  # what revision 0002 makes of a 0.1.0 feed the user had added by hand
        conn.exec_driver_sql("INSERT INTO feeds (url, outlet, enabled, error_count, added_at, origin) "
                             "VALUES ('https://www.ledger.example/rss.xml', 'ledger.example', 1, 0, "
                             "'2024-01-01 00:00:00', 'user')")
    assert [f["url"] for f in store.list_feeds(enabled_only=True)] == ["https://www.ledger.example/rss.xml"]
    assert len(store.list_feeds()) == 3
    store.close()


@pytest.fixture
def http_server():
    server = LocalServer()
    yield server
    server.close()


def test_feeds_import_takes_a_url(tmp_path, http_server):
    http_server.route("/feeds.opml", Reply(200, MY_OPML, {"Content-Type": "text/x-opml"}))
    result = _run("feeds", "import", http_server.url("/feeds.opml"), "--data-dir", str(tmp_path),
                  "--fetch-allow", "127.0.0.1")
    assert result.exit_code == 0 and "2 feeds: 2 added" in result.output, result.output
    refused = _run("feeds", "import", http_server.url("/feeds.opml"), "--data-dir", str(tmp_path / "other"))
    assert refused.exit_code == 1 and "error:" in refused.output          # loopback needs --fetch-allow
    missing = _run("feeds", "import", str(tmp_path / "nope.opml"), "--data-dir", str(tmp_path))
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_ratings_stats_describes_the_table(tmp_path):
    result = _run("ratings", "stats", "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert int(first.split()[0]) >= 2500 and "flagged questionable" in first
    for label in ("bias:", "factuality:", "ownership:", "countries (", "languages (", "owners ("):
        assert label in result.output
    as_json = _run("ratings", "stats", "--json", "--data-dir", str(tmp_path))
    import json

    stats = json.loads(as_json.output)
    assert sum(stats["country"].values()) == stats["outlets"] == sum(stats["bias"].values())
    assert stats["questionable"] >= 150 and sum(stats["flags"].values()) >= stats["questionable"]


def test_serves_first_lines_say_what_the_scorer_measured_and_whether_it_labels():
    from newstilt.cli import _model_line

    status = {"loaded": True, "version": "newstilt-classifier/1", "sha256": "abc", "created": "today",
              "evaluation": {"grouped": {"macro_f1": 0.426, "baseline_macro_f1": 0.425},
                             "leave_outlet_out": {"macro_f1": 0.381, "baseline_macro_f1": 0.359},
                             "abstention": {"threshold": None, "target_accuracy": 0.7}}}
    line = _model_line(status)
    assert "outlet-grouped macro-F1 0.426 (baseline 0.425)" in line
    assert "leave-outlet-out macro-F1 0.381 (baseline 0.359)" in line
    assert "no label ever shown (no confidence reached 70% accuracy" in line
    status["evaluation"]["abstention"]["threshold"] = 0.46
    assert "labels shown above 0.46 confidence" in _model_line(status)
    assert _model_line({"loaded": False, "reason": "no model file"}) == "none (no model file)"
