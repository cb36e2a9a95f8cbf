"""The JSON API: lookups, the cached table with its ETag, the OpenAPI document, and every error path."""
from __future__ import annotations

import pytest

from .conftest import RESOURCES


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["outlets"] == 11


def test_lookup_returns_the_outlet_and_the_matched_entry(client):
    response = client.get("/api/v1/sources/lookup", query_string={"url": "https://news.bbc.co.uk/2/hi/x.stm"})
    assert response.status_code == 200
    body = response.json
    assert body["match"] == {"key": "bbc.co.uk", "host": "news.bbc.co.uk", "kind": "alias"}
    outlet = body["outlet"]
    assert outlet["domain"] == "bbc.com" and outlet["name"] == "BBC News"
    assert outlet["bias"] == {"label": "lean-left", "score": -1.0}
    assert outlet["factuality"] == "high" and outlet["ownership"] == "public-broadcaster" and outlet["country"] == "GB"
    assert outlet["raters"][0]["rater"] == "newstilt"


def test_lookup_shows_every_rater(client, app):
    app.extensions["newstilt"].import_ratings(RESOURCES / "ratings" / "mbfc-fixture.json", "mbfc")
    outlet = client.get("/api/v1/sources/lookup", query_string={"url": "https://www.nytimes.com/a"}).json["outlet"]
    assert [(r["rater"], r["bias"]["label"]) for r in outlet["raters"]] == [("newstilt", "lean-left"),
                                                                          ("mbfc", "left")]
    # bundled -1 and MBFC -2: the mean -1.5 rounds away from zero, to "left"
    assert outlet["bias"] == {"label": "left", "score": -1.5}


def test_unrated_site_is_a_json_404(client):
    response = client.get("/api/v1/sources/lookup", query_string={"url": "https://example.org/x"})
    assert response.status_code == 404
    assert response.json == {"error": {"code": "not_found", "message": "no rating for example.org"}}


@pytest.mark.parametrize("query", [
    {}, {"url": ""}, {"url": "not a url"}, {"url": "ftp://nytimes.com/"}, {"url": "javascript:alert(1)"},
    {"url": "https://exa mple.com"}, {"url": "https://nytimes.com:99999/"}, {"url": "https://" + "a" * 5000},
    {"url": "http://[::1"},
])
def test_bad_lookups_are_400_with_a_message(client, query):
    response = client.get("/api/v1/sources/lookup", query_string=query)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_url" and response.json["error"]["message"]


def test_table_has_an_etag_and_answers_304_until_it_changes(client, app):
    first = client.get("/api/v1/sources")
    assert first.status_code == 200 and first.headers["ETag"]
    table = first.json
    assert len(table["outlets"]) == 11 and table["platforms"] == ["medium.com", "substack.com"]
    assert table["scale"]["bias"][0] == "far-left"
    assert table["version"] == first.headers["ETag"].strip('"')
    again = client.get("/api/v1/sources", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    app.extensions["newstilt"].import_ratings(RESOURCES / "ratings" / "allsides-fixture.csv", "allsides")
    changed = client.get("/api/v1/sources", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_unknown_api_path_and_wrong_method_are_json(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.post("/api/v1/sources")
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"


def test_internal_errors_are_json_and_hide_internals(client, app, monkeypatch):
    def boom(self):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(type(app.extensions["newstilt"].ratings), "index", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/v1/sources")
    assert response.status_code == 500
    assert response.json == {"error": {"code": "internal_error", "message": "internal server error"}}


def test_openapi_document_describes_the_api(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/sources", "/api/v1/sources/lookup", "/healthz"} <= set(doc["paths"])


def test_pages(client):
    assert b"newstilt" in client.get("/").data
    page = client.get("/methodology")
    assert page.status_code == 200 and b"<h1>" in page.data
