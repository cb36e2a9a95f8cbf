"""The article scorer inside the service: trained from the store with ``newstilt train --from-store``, loaded
once from the configured path, and answering ``/api/v1/score`` and ``analyze``; ``model: null`` without one."""
from __future__ import annotations

import gc
import os
import random
import signal

import httpx
import pytest
from click.testing import CliRunner

from newstilt.cli import main
from newstilt.config import Settings
from newstilt.serving import warm_up
from newstilt.storage import Store
from newstilt.web import create_app

from .test_serving import Serve, _children, _wait

VOCAB = {
    "left": "climate justice workers union healthcare equity wages immigrants rights progressive",
    "center": "committee budget officials percent quarterly report agency data forecast analysts",
    "right": "border taxes liberty patriots crime police faith conservative freedom regulations",
}
#: The scorer keeps only terms used by several outlets (it must generalise beyond house style): six a side.
OUTLETS = {"left": ["huffpost.com", "motherjones.com", "msnbc.com", "vox.com", "cnn.com", "occupydemocrats.com"],
           "center": ["reuters.com", "apnews.com", "wsj.com", "bbc.com", "axios.com", "thehill.com"],
           "right": ["foxnews.com", "breitbart.com", "dailywire.com", "theblaze.com", "nationalreview.com",
                     "dailymail.co.uk"]}


def _article(rng, side):
    own = VOCAB[side].split()
    common = "the city council said on monday that the plan would be discussed again next week".split()
    words = [rng.choice(own if rng.random() < 0.5 else common) for _ in range(120)]
    return " ".join(words).capitalize() + "."


@pytest.fixture
def data_dir(tmp_path):
    rng = random.Random(7)
    store = Store(f"sqlite:///{tmp_path / 'newstilt.sqlite3'}")
    with store.begin() as conn:
        for side, domains in OUTLETS.items():
            for domain in domains:
                for i in range(8):
                    store.add_article(conn, url=f"https://www.{domain}/{side}/{i}", title=f"{side} report {i}",
                                      text=_article(rng, side), origin="import", outlet=domain)
    store.close()
    return tmp_path


def test_train_from_store_then_serve_the_model(data_dir):
    result = CliRunner().invoke(main, ["train", "--from-store", "--quiet", "--data-dir", str(data_dir)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    model_path = data_dir / "models" / "newstilt-bias.joblib"
    assert model_path.exists() and model_path.with_suffix(".json").exists()

    app = create_app(Settings.from_env({}, data_dir=data_dir, model_path=model_path), testing=True)
    client = app.test_client()
    nt = app.extensions["newstilt"]
    try:
        warm_up(nt)  # what each web process does before it serves: the scorer's one-time tables are built
        model = nt._model[0]
        assert any(key.startswith("_centred") for key in model.__dict__)
        assert gc.get_freeze_count() > 0 and gc.is_tracked(model.__dict__)  # and kept out of full collections
        assert not any(o is model.__dict__ for o in gc.get_objects(2))
    finally:
        gc.unfreeze()
    text = "Border patrol and police say crime and taxes worry conservative patriots who value liberty and faith."
    lean = client.post("/api/v1/score", json={"title": "Border", "text": text}).json
    assert lean["label"] == "right"
    assert abs(sum(lean["probabilities"].values()) - 1) < 1e-6
    assert lean["explanation"] and all(term["spans"] for term in lean["explanation"])
    analysed = client.post("/api/v1/analyze", json={"url": "https://example.org/x", "title": "Border", "html":
                                                    f"<html><body><article><p>{text * 3}</p></article></body></html>"})
    assert analysed.json["lean"]["label"] == "right"
    app.extensions["newstilt"].close()


def test_the_web_processes_share_the_scorer_the_supervisor_loaded(data_dir):
    """``serve --workers 2``: the supervisor loads the scorer once before it forks and every web process uses
    that one (sharing its memory pages) rather than loading a copy: a process started after the model file
    was removed still answers with the model its siblings use."""
    trained = CliRunner().invoke(main, ["train", "--from-store", "--quiet", "--data-dir", str(data_dir)],
                                 catch_exceptions=False)
    assert trained.exit_code == 0, trained.output
    model_path = data_dir / "models" / "newstilt-bias.joblib"
    server = Serve(data_dir, "--workers", "2", "--no-ingest")
    try:
        assert server.base, server.first + server.proc.stderr.read()
        first = _wait(lambda: len(_children(server.proc.pid)) == 2 and _children(server.proc.pid))
        digest = httpx.get(server.base + "healthz", timeout=10).json()["scorer"]["sha256"]
        model_path.unlink()
        for pid in first:  # every web process is replaced, each started after the file was gone
            os.kill(pid, signal.SIGKILL)
            _wait(lambda pid=pid: (kids := _children(server.proc.pid)) and len(kids) == 2 and pid not in kids)
        assert not set(first) & set(_children(server.proc.pid))
        _wait(lambda: httpx.get(server.base + "healthz", timeout=5).status_code == 200)
        for _ in range(10):
            scorer = httpx.get(server.base + "healthz", timeout=10).json()["scorer"]
            assert scorer["loaded"] and scorer["sha256"] == digest, scorer
    finally:
        code, _, err = server.stop()
    assert code == 0, err


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_training_from_an_empty_store_says_to_fill_it_first(tmp_path, command):
    """Not the message written for --data files ("no usable record ..."): the store is empty, so say so."""
    result = CliRunner().invoke(main, [command, "--from-store", "--quiet", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "holds no article of a rated outlet" in result.output, result.output
    assert "newstilt ingest" in result.output and "no usable record" not in result.output
    assert not (tmp_path / "models" / "newstilt-bias.joblib").exists()


def test_without_a_model_the_answer_says_why(client):
    body = client.post("/api/v1/score", json={"title": "Hello", "text": "world"}).json
    assert body["model"] is None and "newstilt train" in body["reason"]


def test_a_tampered_model_is_refused_with_a_reason(data_dir):
    CliRunner().invoke(main, ["train", "--from-store", "--quiet", "--data-dir", str(data_dir)], catch_exceptions=False)
    model_path = data_dir / "models" / "newstilt-bias.joblib"
    model_path.write_bytes(model_path.read_bytes() + b"tampered")
    app = create_app(Settings.from_env({}, data_dir=data_dir, model_path=model_path), testing=True)
    body = app.test_client().post("/api/v1/score", json={"text": "Some text about taxes."}).json
    assert body["model"] is None and "sha256" in body["reason"].lower()
    app.extensions["newstilt"].close()


@pytest.mark.parametrize("body", [None, [], {"title": 3}, {"title": "", "text": "  "}])
def test_score_rejects_bad_bodies(client, body):
    response = client.post("/api/v1/score", json=body)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"
