"""The API contract: the OpenAPI document lists exactly the app's routes, its schemas are valid and exact, and
real answers of every endpoint (a story, an analysis with a trained scorer, every error) validate against it."""
from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from newstilt.cli import main
from newstilt.config import Settings
from newstilt.storage import Store
from newstilt.web import create_app
from newstilt.web.openapi import document

from .conftest import FIXTURE_OUTLETS
from .test_scoring_service import OUTLETS, _article
from .test_stories_api import EVENT

#: Routes Flask adds by itself, not part of the API.
FRAMEWORK_ENDPOINTS = {"static"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_route_is_documented_and_every_documented_path_is_a_route(tmp_path):
    app = create_app(Settings.from_env({}, data_dir=tmp_path), testing=True)
    routes = {(_openapi_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint not in FRAMEWORK_ENDPOINTS
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in document()["paths"].items() for method in ops}
    assert routes == documented


def test_every_schema_is_valid_and_exact():
    doc = document()
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        if schema.get("type") == "object" and not name.endswith("Request"):
            assert schema["additionalProperties"] is False, name
            assert set(schema["required"]) <= set(schema["properties"]), name
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert {"summary", "responses"} <= set(op), path
            for param in op.get("parameters", []):
                if param["schema"].get("type") == "integer":
                    assert {"minimum", "maximum"} <= set(param["schema"]), (path, param["name"])


# -- real answers against the document ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An app with a trained scorer (so analyze and score answer with a real lean) and one story of three
    outlets, on SQLite."""
    data_dir = tmp_path_factory.mktemp("contract")
    rng = random.Random(7)
    store = Store(f"sqlite:///{data_dir / 'newstilt.sqlite3'}")
    with store.begin() as conn:
        for side, domains in OUTLETS.items():
            for domain in domains:
                for i in range(8):
                    store.add_article(conn, url=f"https://www.{domain}/{side}/{i}", title=f"{side} report {i}",
                                      text=_article(rng, side), origin="import", outlet=domain,
                                      published=datetime(2024, 3, 1, tzinfo=UTC))
    store.close()
    trained = CliRunner().invoke(main, ["train", "--from-store", "--quiet", "--data-dir", str(data_dir)],
                                 catch_exceptions=False)
    assert trained.exit_code == 0, trained.output
    app = create_app(Settings.from_env({}, data_dir=data_dir, ratings_file=FIXTURE_OUTLETS), testing=True)
    nt = app.extensions["newstilt"]
    with nt.store.begin() as conn:
        for outlet, url, title, text in EVENT:
            article_id = nt.store.add_article(conn, url=url, title=title, text=text, origin="import", outlet=outlet,
                                              published=datetime(2024, 3, 12, 9, tzinfo=UTC))
            nt.clusterer.add(conn, article_id)
    yield app
    nt.close()


def _validator(schema: dict) -> Draft202012Validator:
    doc = document()
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"], **schema}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def check(response, path: str, method: str = "get") -> dict | None:
    """``response`` is one the document lists for ``path`` and ``method``, and its body matches the schema."""
    op = document()["paths"][path][method]
    status = str(response.status_code)
    assert status in op["responses"], f"{method.upper()} {path}: {status} is not documented"
    content = op["responses"][status].get("content")
    if content is None:
        assert not response.data
        return None
    assert response.mimetype in content, f"{method.upper()} {path} {status}: {response.mimetype}"
    if response.mimetype != "application/json":
        return None
    try:
        _validator(content["application/json"]["schema"]).validate(response.json)
    except ValidationError as exc:
        pytest.fail(f"{method.upper()} {path} {status}: {exc.message} at {list(exc.absolute_path)}")
    return response.json


def test_answers_of_every_endpoint_match_the_document(served):
    client = served.test_client()
    health = check(client.get("/healthz"), "/healthz")
    assert health["scorer"]["loaded"] is True
    check(client.get("/api/v1/openapi.json"), "/api/v1/openapi.json")
    table = client.get("/api/v1/sources")
    check(table, "/api/v1/sources")
    check(client.get("/api/v1/sources", headers={"If-None-Match": table.headers["ETag"]}), "/api/v1/sources")
    check(client.get("/api/v1/sources/lookup?url=https://www.nytimes.com/a"), "/api/v1/sources/lookup")
    check(client.get("/api/v1/sources/lookup?url=https://example.org/a"), "/api/v1/sources/lookup")
    check(client.get("/api/v1/sources/lookup?url=ftp://x"), "/api/v1/sources/lookup")

    listed = check(client.get("/api/v1/stories?limit=5"), "/api/v1/stories")
    story_id = next(s["id"] for s in listed["stories"] if s["source_count"] == 3)
    check(client.get("/api/v1/stories?limit=0"), "/api/v1/stories")
    story = check(client.get(f"/api/v1/stories/{story_id}"), "/api/v1/stories/{story_id}")
    assert sum(len(v) for v in story["articles"].values()) == 3
    check(client.get("/api/v1/stories/999999"), "/api/v1/stories/{story_id}")
    check(client.get("/api/v1/stories/99999999999999999999"), "/api/v1/stories/{story_id}")
    check(client.get(f"/stories/{story_id}"), "/stories/{story_id}")
    check(client.get("/stories/999999"), "/stories/{story_id}")
    check(client.get("/"), "/")
    check(client.get("/methodology"), "/methodology")

    stored = check(client.post("/api/v1/analyze", json={"url": EVENT[0][1]}), "/api/v1/analyze", "post")
    assert stored["story"]["includes_this_page"] is True and stored["lean"]["model"] is not None
    text = " ".join(t for _, _, _, t in EVENT)
    new = check(client.post("/api/v1/analyze", json={
        "url": "https://www.bbc.com/news/portsmouth-bridge", "title": "Bridge",
        "html": "<html><head><title>Bridge</title><meta property='article:published_time' "
                f"content='2024-03-12T15:00:00Z'></head><body><article><h1>Portsmouth bridge collapse</h1>"
                f"<p>{text}</p></article></body></html>"}), "/api/v1/analyze", "post")
    assert new["story"]["includes_this_page"] is False and new["match"]["shared_terms"]
    check(client.post("/api/v1/analyze", json={"url": "https://www.nytimes.com/x", "html": "\x00" * 200}),
          "/api/v1/analyze", "post")
    check(client.post("/api/v1/analyze", json={"url": "https://example.org/x", "title": "Hello"}),
          "/api/v1/analyze", "post")
    check(client.post("/api/v1/analyze", json={"url": "nope"}), "/api/v1/analyze", "post")

    lean = check(client.post("/api/v1/score", json={"title": "Border", "text": OUTLETS["right"][0] + " " + text}),
                 "/api/v1/score", "post")
    assert lean["label"] in {"left", "center", "right"}
    check(client.post("/api/v1/score", json={"title": "Le", "text": "le la les de du des et est une " * 10}),
          "/api/v1/score", "post")
    check(client.post("/api/v1/score", json={}), "/api/v1/score", "post")
    served.config["MAX_CONTENT_LENGTH"] = 100
    try:
        check(client.post("/api/v1/score", json={"text": "x" * 500}), "/api/v1/score", "post")
    finally:
        served.config["MAX_CONTENT_LENGTH"] = Settings().max_body_bytes


def test_an_answer_without_a_model_matches_the_document(client):
    check(client.post("/api/v1/score", json={"title": "Hello", "text": "world"}), "/api/v1/score", "post")
    health = check(client.get("/healthz"), "/healthz")
    assert health["scorer"]["loaded"] is False


def test_a_field_missing_from_the_document_is_caught(served):
    """The schemas are exact: a payload with a key the document does not list fails validation."""
    listed = served.test_client().get("/api/v1/stories").json
    listed["stories"][0]["surprise"] = 1
    schema = document()["paths"]["/api/v1/stories"]["get"]["responses"]["200"]["content"]["application/json"]
    with pytest.raises(ValidationError):
        _validator(schema["schema"]).validate(listed)
