"""The stories and analyze endpoints: validation, JSON errors, story pages, and analyze for stored and new
pages (clustered by the real clusterer)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from newstilt.storage import articles

EVENT = [
    ("nytimes.com", "https://www.nytimes.com/2024/03/12/us/harbor-bridge-collapse.html",
     "Cargo Ship Strikes Harbor Bridge in Portsmouth, Collapsing Span",
     "A cargo ship named Marlow Star struck the Elm Street harbor bridge in Portsmouth early Tuesday, "
     "collapsing the main span into the Piscataqua River. Governor Dana Whitfield said six workers were "
     "missing and divers from the Coast Guard were searching the water near the pier."),
    ("foxnews.com", "https://www.foxnews.com/us/portsmouth-harbor-bridge-collapse-cargo-ship",
     "Portsmouth harbor bridge collapses after cargo ship Marlow Star loses power",
     "The Elm Street harbor bridge in Portsmouth collapsed Tuesday after the cargo ship Marlow Star lost "
     "power and struck a pier. Governor Dana Whitfield said six construction workers are missing in the "
     "Piscataqua River as Coast Guard divers search the wreckage."),
    ("reuters.com", "https://www.reuters.com/world/us/ship-hits-portsmouth-bridge-2024-03-12/",
     "Ship hits Portsmouth bridge, six workers missing",
     "A container ship, the Marlow Star, hit the Elm Street harbor bridge in Portsmouth on Tuesday and the "
     "span fell into the Piscataqua River, Governor Dana Whitfield said. Six workers were missing and the "
     "Coast Guard sent divers to search the river near the pier."),
]
OTHER = ("bbc.com", "https://www.bbc.com/news/science-comet-2024",
         "Astronomers track bright comet passing Jupiter",
         "Astronomers at the Kielder observatory tracked a bright comet as it passed close to Jupiter, "
         "measuring its tail and dust with a new spectrograph funded by the science council.")


@pytest.fixture
def loaded(app):
    """Three outlets' articles about one event and one unrelated article, clustered into stories."""
    services = app.extensions["newstilt"]
    when = datetime(2024, 3, 12, 9, tzinfo=UTC)
    ids = {}
    with services.store.begin() as conn:
        for outlet, url, title, text in [*EVENT, OTHER]:
            ids[url] = services.store.add_article(conn, url=url, title=title, text=text, origin="import",
                                                  outlet=outlet, published=when)
            services.clusterer.add(conn, ids[url])
    with services.store.connect() as conn:
        story_of = dict(conn.execute(sa.select(articles.c.url, articles.c.story_id)).all())
    return story_of


def test_the_event_is_one_story_and_the_other_article_another(loaded):
    event_stories = {loaded[url] for _, url, _, _ in EVENT}
    assert len(event_stories) == 1 and loaded[OTHER[1]] not in event_stories


def test_story_detail_and_list(client, loaded):
    story_id = loaded[EVENT[0][1]]
    story = client.get(f"/api/v1/stories/{story_id}").json
    assert story["source_count"] == 3 and story["article_count"] == 3
    assert [story["distribution"][g]["count"] for g in ("left", "center", "right")] == [1, 1, 1]
    assert story["title"] in {title for _, _, title, _ in EVENT}
    listed = client.get("/api/v1/stories", query_string={"limit": 5}).json["stories"]
    assert {s["id"] for s in listed} == set(loaded.values())
    assert client.get("/api/v1/stories", query_string={"since": "2030-01-01"}).json["stories"] == []
    assert client.get("/api/v1/stories", query_string={"blindspot": "left"}).json["stories"] == []


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "x"}, {"limit": "1000"}, {"since": "yesterday"},
                                   {"blindspot": "up"}, {"min_sources": "-1"}])
def test_story_list_rejects_bad_parameters(client, query):
    response = client.get("/api/v1/stories", query_string=query)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"


def test_unknown_story_is_a_json_404_and_the_page_a_404(client):
    assert client.get("/api/v1/stories/999").json["error"]["code"] == "not_found"
    assert client.get("/stories/999").status_code == 404


def test_story_page_is_html_with_every_article_escaped(client, app, loaded):
    story_id = loaded[EVENT[0][1]]
    with app.extensions["newstilt"].store.begin() as conn:
        conn.execute(articles.update().where(articles.c.url == EVENT[1][1])
                     .values(title="<script>alert(1)</script> Bridge"))
    page = client.get(f"/stories/{story_id}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bridge" in html and "<script>alert" not in html
    assert "The New York Times" in html and "Fox News" in html and "Reuters" in html


def test_analyze_a_stored_article_returns_its_story_without_itself(client, loaded):
    url = EVENT[0][1]
    body = client.post("/api/v1/analyze", json={"url": url}).json
    assert body["outlet"]["outlet"]["domain"] == "nytimes.com"
    assert body["article"]["stored"] is True
    story = body["story"]
    assert story["id"] == loaded[url] and story["source_count"] == 3 and story["includes_this_page"] is True
    others = [a["url"] for side in story["articles"].values() for a in side]
    assert url not in others and set(others) == {EVENT[1][1], EVENT[2][1]}
    assert body["lean"]["model"] is None and "newstilt train" in body["lean"]["reason"]


def test_analyze_a_new_page_matches_it_and_stores_nothing(client, app, loaded):
    html = """<html><head><title>Bridge falls in Portsmouth</title>
      <meta property="article:published_time" content="2024-03-12T15:00:00Z"></head><body><article>
      <h1>Bridge falls in Portsmouth after ship strike</h1>
      <p>The Elm Street harbor bridge in Portsmouth fell into the Piscataqua River on Tuesday when the cargo
      ship Marlow Star struck a pier, and Governor Dana Whitfield said six workers were missing.</p>
      <p>Coast Guard divers searched the river through the afternoon while engineers inspected the pier and
      the remaining spans of the bridge for damage.</p></article></body></html>"""
    url = "https://www.theguardian.com/us-news/2024/mar/12/portsmouth-bridge?utm_source=twitter"
    body = client.post("/api/v1/analyze", json={"url": url, "html": html}).json
    assert body["url"] == "https://www.theguardian.com/us-news/2024/mar/12/portsmouth-bridge"
    assert body["article"]["stored"] is False and body["article"]["text_length"] > 100
    assert body["story"]["id"] == loaded[EVENT[0][1]] and body["story"]["includes_this_page"] is False
    assert body["match"]["score"] > 0 and body["match"]["shared_terms"]
    with app.extensions["newstilt"].store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(articles)).scalar() == 4


def test_analyze_stores_the_page_when_the_setting_says_so(client, app, loaded):
    nt = app.extensions["newstilt"]
    nt.settings = nt.settings.replace(store_analyzed=True)
    html = "<html><body><article><h1>Bridge falls</h1><p>" + EVENT[2][3] * 3 + "</p></article></body></html>"
    client.post("/api/v1/analyze", json={"url": "https://www.theguardian.com/x/bridge", "html": html})
    with app.extensions["newstilt"].store.connect() as conn:
        assert conn.execute(sa.select(articles.c.origin).where(
            articles.c.url == "https://www.theguardian.com/x/bridge")).scalar() == "analyze"


def test_analyze_an_unrated_page_without_html(client):
    body = client.post("/api/v1/analyze", json={"url": "https://example.org/post", "title": "Hello"}).json
    assert body["outlet"] is None and body["story"] is None and body["article"]["title"] == "Hello"


@pytest.mark.parametrize(("kwargs", "status", "code"), [
    ({"data": "not json", "content_type": "application/json"}, 400, "bad_request"),
    ({"json": ["a", "list"]}, 400, "bad_request"),
    ({"json": {}}, 400, "invalid_url"),
    ({"json": {"url": "ftp://x.com/a"}}, 400, "invalid_url"),
    ({"json": {"url": "https://x.com/a", "html": 5}}, 400, "bad_request"),
    ({"json": {"url": "https://x.com/a", "title": ["x"]}}, 400, "bad_request"),
])
def test_analyze_rejects_bad_bodies(client, kwargs, status, code):
    response = client.post("/api/v1/analyze", **kwargs)
    assert response.status_code == status and response.json["error"]["code"] == code


def test_analyze_refuses_bodies_over_the_limit_with_a_json_413(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/api/v1/analyze", json={"url": "https://x.com/a", "html": "x" * 5000})
    assert response.status_code == 413 and response.json["error"]["code"] == "request_entity_too_large"


def test_analyze_of_unextractable_html_still_rates_the_outlet_and_says_why(client):
    response = client.post("/api/v1/analyze", json={"url": "https://www.nytimes.com/a", "html": "\x00\x01\x02" * 50})
    assert response.status_code == 200
    body = response.json
    assert body["outlet"]["outlet"]["domain"] == "nytimes.com" and body["story"] is None
    assert body["article"]["text_length"] == 0 and body["article"]["error"]


def test_analyze_stores_a_page_read_under_varying_urls_once(client, app, loaded):
    """With STORE_ANALYZED on, one page read under varying URLs became 1,083 rows from 20 pages."""
    nt = app.extensions["newstilt"]
    nt.settings = nt.settings.replace(store_analyzed=True)
    text = EVENT[2][3] * 4
    with_canonical = ('<html><head><link rel="canonical" href="https://www.theguardian.com/world/bridge">'
                      f"</head><body><article><h1>Bridge falls</h1><p>{text}</p></article></body></html>")
    without = f"<html><body><article><h1>Bridge falls</h1><p>{text}</p></article></body></html>"
    for i in range(5):
        client.post("/api/v1/analyze", json={"url": f"https://www.theguardian.com/world/bridge?page={i}",
                                             "html": with_canonical})
        client.post("/api/v1/analyze", json={"url": f"https://www.theguardian.com/x?session={i}", "html": without})
    with nt.store.connect() as conn:
        stored = conn.execute(sa.select(articles.c.url).where(articles.c.origin == "analyze")).scalars().all()
    assert stored == ["https://www.theguardian.com/world/bridge"]  # the same text of one outlet: one article
    again = client.post("/api/v1/analyze", json={"url": "https://www.theguardian.com/x?session=3"}).json
    assert again["article"]["stored"] is True          # every address it was read under leads to it
